-- Market analytics results (propsage.analytics), written by propsage.analytics.persist after
-- each stored batch. line_movements stays the store's own (main-line and price moves).
-- Market analytics results (propsage.analytics.AnalyticsEngine), written after each poll.
CREATE TABLE IF NOT EXISTS steam_moves (
    steam_id          VARCHAR PRIMARY KEY,     -- hash of group, direction, start
    game_id           VARCHAR NOT NULL,
    player_id         VARCHAR NOT NULL,
    market            VARCHAR NOT NULL,
    league            VARCHAR,
    direction         INTEGER NOT NULL,        -- +1 toward over/home, -1 toward under/away
    n_books           INTEGER NOT NULL,        -- books seen by detection
    books             VARCHAR NOT NULL,        -- comma list in move order
    first_book        VARCHAR NOT NULL,        -- comma list when tied
    started_at        TIMESTAMPTZ NOT NULL,    -- first book's own move time
    last_moved_at     TIMESTAMPTZ,
    detected_at       TIMESTAMPTZ NOT NULL,    -- fetch that showed the k-th book
    detection_delay_s DOUBLE,
    from_line         DOUBLE,
    to_line           DOUBLE,
    is_live           BOOLEAN
);
CREATE TABLE IF NOT EXISTS steam_members (
    steam_id          VARCHAR NOT NULL,
    book              VARCHAR NOT NULL,
    rank              INTEGER,
    is_leader         BOOLEAN,
    moved_at          TIMESTAMPTZ,
    "timestamp"       TIMESTAMPTZ,
    lag_s             DOUBLE,
    line_move         DOUBLE,
    prob_move         DOUBLE,
    PRIMARY KEY (steam_id, book)
);
-- Insert on AnalyticsResult.arbs_opened (closed_at NULL), update on arbs_closed.
CREATE TABLE IF NOT EXISTS arbitrage_windows (
    game_id           VARCHAR NOT NULL,
    player_id         VARCHAR NOT NULL,
    market            VARCHAR NOT NULL,
    line_numeric      DOUBLE NOT NULL,
    over_book         VARCHAR NOT NULL,
    over_price        DOUBLE,
    under_book        VARCHAR NOT NULL,
    under_price       DOUBLE,
    return_pct        DOUBLE,                  -- at opening
    max_return_pct    DOUBLE,                  -- over the window (set on close)
    opened_at         TIMESTAMPTZ NOT NULL,    -- newer leg's book time
    detected_at       TIMESTAMPTZ NOT NULL,    -- the poll that saw it
    closed_at         TIMESTAMPTZ,             -- NULL while open
    duration_s        DOUBLE,
    PRIMARY KEY (game_id, player_id, market, line_numeric, opened_at)
);
CREATE TABLE IF NOT EXISTS middles (
    game_id           VARCHAR NOT NULL,
    player_id         VARCHAR NOT NULL,
    market            VARCHAR NOT NULL,
    over_line         DOUBLE NOT NULL,
    over_book         VARCHAR NOT NULL,
    over_price        DOUBLE NOT NULL,
    under_line        DOUBLE NOT NULL,
    under_book        VARCHAR NOT NULL,
    under_price       DOUBLE NOT NULL,
    gap               DOUBLE,
    hit_prob          DOUBLE,
    push_prob         DOUBLE,
    cost              DOUBLE,                  -- per 100 staked
    ev                DOUBLE,                  -- per 100 staked
    found_at          TIMESTAMPTZ NOT NULL
);
-- Current line-aware consensus per player-market (upsert the touched groups each poll).
CREATE TABLE IF NOT EXISTS market_consensus (
    game_id           VARCHAR NOT NULL,
    player_id         VARCHAR NOT NULL,
    market            VARCHAR NOT NULL,
    league            VARCHAR,
    n_books           INTEGER,
    consensus_line    DOUBLE,
    prob_line         DOUBLE,
    consensus_prob    DOUBLE,
    line_spread       DOUBLE,
    prob_spread       DOUBLE,
    agreement         DOUBLE,
    hold_median       DOUBLE,
    line_aware        BOOLEAN,
    n_flagged         INTEGER,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (game_id, player_id, market)
);
-- Quotes the guards flagged (AnalyticsResult.outliers), append-only.
CREATE TABLE IF NOT EXISTS quote_flags (
    offer_id          VARCHAR NOT NULL,
    game_id           VARCHAR NOT NULL,
    player_id         VARCHAR NOT NULL,
    market            VARCHAR NOT NULL,
    book              VARCHAR NOT NULL,
    line_numeric      DOUBLE,
    reason            VARCHAR NOT NULL,        -- stale | bad_hold | off_line | neighbour_line | line_iqr | suspended
    prob              DOUBLE,
    expected_prob     DOUBLE,
    prob_gap          DOUBLE,
    likely_line       DOUBLE,
    flagged_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_steam_game ON steam_moves (game_id);
CREATE INDEX IF NOT EXISTS idx_arb_game ON arbitrage_windows (game_id);
