-- Per-game reads of the current board. odds_snapshots has no index on purpose: an ART index
-- would make every append pay for the whole history; DuckDB's zonemaps serve its scans.
CREATE INDEX IF NOT EXISTS idx_offers_game ON prop_offers (game_id);
CREATE INDEX IF NOT EXISTS idx_movements_game ON line_movements (game_id);
