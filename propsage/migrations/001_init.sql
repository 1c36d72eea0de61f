-- PropSage store schema, version 1.
--
-- Conventions
--   * Prices are American odds (DOUBLE: NULL when that side is not offered, e.g. an Over-only
--     quote or an anytime-TD "Yes" with no "No").
--   * Times are TIMESTAMPTZ in UTC. `fetched_at` is when PropSage received a quote;
--     `book_last_update` is the book's own time (NULL when the provider gives none).
--   * An offer is one book's quote on one market at one line, unique per
--     (game_id, player_id, market, book, line_numeric): alternate lines are separate offers.
--     `prop_offers.id` is a hash of those five (propsage.domain.offer_ids).
--   * Game-level markets (PropSage handles them as well as player props):
--       player_id = ''
--       totals  : over_price = Over, under_price = Under, line_numeric = the total
--       spreads : over_price = HOME side, under_price = AWAY side, line_numeric = HOME point
--       h2h     : over_price = HOME, under_price = AWAY, line_numeric = 0
--   * Markets use The Odds API keys (player_pass_yds, player_points, h2h, ...).

CREATE TABLE IF NOT EXISTS games_live (
    id               VARCHAR PRIMARY KEY,
    league           VARCHAR NOT NULL,
    sport_key        VARCHAR,
    status           VARCHAR NOT NULL,          -- scheduled | live | final
    start_time       TIMESTAMPTZ NOT NULL,
    home_team        VARCHAR NOT NULL,
    away_team        VARCHAR NOT NULL,
    home_score       INTEGER,
    away_score       INTEGER,
    period           INTEGER,
    clock            VARCHAR,
    provider         VARCHAR,
    is_stale         BOOLEAN DEFAULT FALSE,     -- last poll of this game failed; data kept
    last_polled      TIMESTAMPTZ,               -- last successful poll of its offers
    last_updated     TIMESTAMPTZ NOT NULL
);

-- The current quote of every offer ever seen, with the model's view of it.
CREATE TABLE IF NOT EXISTS prop_offers (
    id               VARCHAR PRIMARY KEY,
    game_id          VARCHAR NOT NULL,
    league           VARCHAR,
    player_id        VARCHAR NOT NULL,          -- '' for game-level markets
    player_name      VARCHAR,
    market           VARCHAR NOT NULL,
    book             VARCHAR NOT NULL,
    line_numeric     DOUBLE,                    -- NULL when the market has no point
    over_price       DOUBLE,
    under_price      DOUBLE,
    is_live          BOOLEAN DEFAULT FALSE,
    is_suspended     BOOLEAN DEFAULT FALSE,
    is_active        BOOLEAN DEFAULT TRUE,      -- FALSE once the book stopped quoting it
    implied_prob     DOUBLE,                    -- no-vig P(over / home) of this quote
    fair_line        DOUBLE,                    -- model median
    fair_over_prob   DOUBLE,
    edge             DOUBLE,                    -- best side: fair prob - no-vig market prob
    ev               DOUBLE,
    kelly            DOUBLE,
    confidence_score DOUBLE,
    book_last_update TIMESTAMPTZ,
    fetched_at       TIMESTAMPTZ NOT NULL,      -- when this quote (as it stands) was first seen
    last_updated     TIMESTAMPTZ NOT NULL,      -- last time anything of this row changed
    created_at       TIMESTAMPTZ NOT NULL
);

-- Append-only history: one row each time an offer's quote changes (never for an unchanged
-- quote). The seed's `timestamp` is `fetched_at`. Denormalised keys keep point-in-time reads
-- join-free.
CREATE TABLE IF NOT EXISTS odds_snapshots (
    prop_offer_id    VARCHAR NOT NULL,
    game_id          VARCHAR NOT NULL,
    league           VARCHAR,
    player_id        VARCHAR NOT NULL,
    market           VARCHAR NOT NULL,
    book             VARCHAR NOT NULL,
    line_numeric     DOUBLE,
    over_price       DOUBLE,
    under_price      DOUBLE,
    is_suspended     BOOLEAN NOT NULL,
    is_active        BOOLEAN NOT NULL,
    implied_prob     DOUBLE,
    fair_line        DOUBLE,
    fair_over_prob   DOUBLE,
    edge             DOUBLE,
    book_last_update TIMESTAMPTZ,
    fetched_at       TIMESTAMPTZ NOT NULL
);

-- A change of a book's main line (kind 'line') or of its price at the same line ('price')
-- for one (game, player, market, book). from/to_odds are the over (home) prices.
CREATE TABLE IF NOT EXISTS line_movements (
    prop_offer_id    VARCHAR NOT NULL,          -- the offer now holding the main line
    game_id          VARCHAR NOT NULL,
    player_id        VARCHAR NOT NULL,
    market           VARCHAR NOT NULL,
    book             VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,          -- line | price
    from_line        DOUBLE,
    to_line          DOUBLE,
    from_odds        DOUBLE,
    to_odds          DOUBLE,
    from_prob        DOUBLE,                    -- no-vig P(over) before
    to_prob          DOUBLE,                    -- no-vig P(over) after
    movement_size    DOUBLE,                    -- |to_line - from_line|
    velocity         DOUBLE,                    -- line change per minute since the last change
    "timestamp"      TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS players (
    player_id        VARCHAR PRIMARY KEY,
    name             VARCHAR NOT NULL,
    team             VARCHAR,
    position         VARCHAR,
    league           VARCHAR
);

-- Actual stat per player, game and market, for grading and priors.
CREATE TABLE IF NOT EXISTS results (
    game_id          VARCHAR NOT NULL,
    league           VARCHAR,
    game_date        DATE,
    player_id        VARCHAR NOT NULL,
    player_name      VARCHAR,
    team             VARCHAR,
    position         VARCHAR,
    market           VARCHAR NOT NULL,
    value            DOUBLE NOT NULL,
    source           VARCHAR,
    PRIMARY KEY (game_id, player_id, market)
);

-- Quotes that failed validation: counted and kept for inspection, never stored as offers.
CREATE TABLE IF NOT EXISTS rejected_quotes (
    game_id          VARCHAR,
    player_id        VARCHAR,
    market           VARCHAR,
    book             VARCHAR,
    line_numeric     DOUBLE,
    over_price       DOUBLE,
    under_price      DOUBLE,
    reason           VARCHAR NOT NULL,
    fetched_at       TIMESTAMPTZ NOT NULL
);
