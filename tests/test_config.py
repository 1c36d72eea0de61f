"""Settings from the environment and .env: defaults, seed aliases, precedence, errors, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from propsage.config import ConfigError, Secret, Settings, load_settings
from propsage.paths import DATA_DIR


def load(env: dict[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Settings from exactly this env (never the developer's shell or repo .env)."""
    return load_settings(env or {}, env_file=env_file)


@pytest.fixture
def dotenv(tmp_path: Path):
    def write(text: str) -> Path:
        path = tmp_path / ".env"
        path.write_text(text)
        return path

    return write


# --- defaults --------------------------------------------------------------------------------

def test_defaults():
    s = load()
    assert s.provider == "mock"
    assert (s.realtime, s.live_odds, s.websocket_push) == (True, True, True)
    assert s.leagues == ("cfb", "nfl", "nba")
    assert s.books == ("draftkings", "fanduel")
    assert s.markets == ()
    assert (s.max_games, s.live_interval, s.pregame_interval) == (10, 5.0, 60.0)
    assert s.db_path == DATA_DIR / "propsage.duckdb"
    assert s.parquet_dir == DATA_DIR / "parquet"
    assert s.odds_api_key is None
    assert s.odds_api_base_url == "https://api.the-odds-api.com/v4"
    assert s.regions == ("us",)
    assert (s.replay_source, s.replay_speed) == (None, 60.0)
    assert (s.mock_seed, s.mock_games, s.quota_floor, s.stale_after) == (7, 12, 500, 120.0)
    assert s.log_level == "INFO"


def test_default_leagues_map_to_odds_api_sport_keys():
    assert load().sport_keys == (
        "americanfootball_ncaaf", "americanfootball_nfl", "basketball_nba",
    )


def test_default_markets_are_the_league_props_plus_game_lines():
    nba = load().markets_for("nba")
    assert nba[-3:] == ("h2h", "spreads", "totals")
    assert "player_points" in nba and "player_pass_yds" not in nba


def test_missing_env_file_is_fine(tmp_path):
    assert load(env_file=tmp_path / "absent.env").provider == "mock"


# --- PROPSAGE_ variables -----------------------------------------------------------------------

def test_propsage_variables_are_read():
    s = load({
        "PROPSAGE_PROVIDER": "replay", "PROPSAGE_REPLAY_SOURCE": "~/caps/week1.jsonl.gz",
        "PROPSAGE_REPLAY_SPEED": "120", "PROPSAGE_LIVE_INTERVAL": "2.5",
        "PROPSAGE_PREGAME_INTERVAL": "30", "PROPSAGE_DB": "/tmp/x.duckdb",
        "PROPSAGE_REGIONS": "us,us2", "PROPSAGE_MOCK_SEED": "-3", "PROPSAGE_MOCK_GAMES": "4",
        "PROPSAGE_QUOTA_FLOOR": "0", "PROPSAGE_STALE_AFTER": "45",
        "PROPSAGE_PARQUET_DIR": "/tmp/pq", "PROPSAGE_LOG_LEVEL": "debug",
        "PROPSAGE_ODDS_API_BASE_URL": "http://localhost:8765/v4/",
    })
    assert s.provider == "replay"
    assert s.replay_source == Path.home() / "caps" / "week1.jsonl.gz"
    assert (s.replay_speed, s.live_interval, s.pregame_interval) == (120.0, 2.5, 30.0)
    assert s.db_path == Path("/tmp/x.duckdb") and s.parquet_dir == Path("/tmp/pq")
    assert s.regions == ("us", "us2")
    assert (s.mock_seed, s.mock_games, s.quota_floor, s.stale_after) == (-3, 4, 0, 45.0)
    assert s.log_level == "DEBUG"
    assert s.odds_api_base_url == "http://localhost:8765/v4"


@pytest.mark.parametrize(("raw", "value"), [
    ("true", True), ("FALSE", False), ("1", True), ("0", False), ("yes", True), ("no", False),
    ("on", True), ("off", False),
])
def test_flags_accept_the_usual_spellings(raw, value):
    assert load({"PROPSAGE_REALTIME": raw}).realtime is value


def test_each_flag_has_its_own_variable():
    s = load({"PROPSAGE_LIVE_ODDS": "off", "PROPSAGE_WS_PUSH": "no"})
    assert (s.realtime, s.live_odds, s.websocket_push) == (True, False, False)


def test_books_map_to_odds_api_bookmaker_keys():
    s = load({"PROPSAGE_BOOKS": "DraftKings, caesars,williamhill_us"})
    assert s.books == ("draftkings", "caesars", "williamhill_us")
    assert s.book_keys == ("draftkings", "williamhill_us")


def test_seed_market_names_map_to_odds_api_keys():
    s = load({"PROPSAGE_MARKETS": "passing_yards,player_points,totals"})
    assert s.markets == ("player_pass_yds", "player_points", "totals")


def test_configured_markets_are_filtered_to_each_league():
    s = load({"PROPSAGE_MARKETS": "passing_yards,points,totals,player_pass_attempts"})
    assert s.markets_for("nfl") == ("player_pass_yds", "totals", "player_pass_attempts")
    assert s.markets_for("nba") == ("player_points", "totals", "player_pass_attempts")


def test_empty_value_counts_as_unset():
    assert load({"PROPSAGE_LEAGUES": "  ", "PROPSAGE_ODDS_API_KEY": ""}).leagues == (
        "cfb", "nfl", "nba",
    )


# --- seed aliases ----------------------------------------------------------------------------

def test_the_odds_api_key_alias():
    assert load({"THE_ODDS_API_KEY": "abc123"}).odds_api_key.get() == "abc123"


@pytest.mark.parametrize("var", ["SUPPORTED_LEAGUES", "NEXT_PUBLIC_LEAGUES"])
def test_league_aliases(var):
    assert load({var: "nfl,mlb"}).leagues == ("nfl", "mlb")


@pytest.mark.parametrize("var", ["ODDS_PROVIDERS", "NEXT_PUBLIC_ODDS_PROVIDERS"])
def test_book_aliases(var):
    assert load({var: "draftkings,fanduel,caesars,betmgm"}).book_keys == (
        "draftkings", "fanduel", "williamhill_us", "betmgm",
    )


@pytest.mark.parametrize("var", ["NEXT_PUBLIC_MAX_GAMES", "MAX_CONCURRENT_GAMES"])
def test_max_games_aliases(var):
    assert load({var: "20"}).max_games == 20


def test_seed_update_interval_is_milliseconds():
    assert load({"NEXT_PUBLIC_UPDATE_INTERVAL": "5000"}).live_interval == 5.0
    assert load({"NEXT_PUBLIC_UPDATE_INTERVAL": "1500"}).live_interval == 1.5


@pytest.mark.parametrize(("var", "attr"), [
    ("NEXT_PUBLIC_RT_ENABLED", "realtime"), ("NEXT_PUBLIC_LIVE_ODDS", "live_odds"),
    ("NEXT_PUBLIC_WS_ENABLED", "websocket_push"),
])
def test_flag_aliases(var, attr):
    assert getattr(load({var: "false"}), attr) is False


def test_propsage_name_beats_its_alias():
    s = load({"PROPSAGE_LEAGUES": "nba", "SUPPORTED_LEAGUES": "nfl", "NEXT_PUBLIC_LEAGUES": "cfb"})
    assert s.leagues == ("nba",)


def test_first_listed_alias_beats_later_alias():
    assert load({"NEXT_PUBLIC_MAX_GAMES": "3", "MAX_CONCURRENT_GAMES": "4"}).max_games == 3


# --- .env file -------------------------------------------------------------------------------

def test_env_file_is_read(dotenv):
    path = dotenv("PROPSAGE_PROVIDER=theoddsapi\nTHE_ODDS_API_KEY=fromfile\n"
                  "NEXT_PUBLIC_LIVE_ODDS=true  \n# a comment\nPROPSAGE_MAX_GAMES=3\n")
    s = load(env_file=path)
    assert (s.provider, s.odds_api_key.get(), s.live_odds, s.max_games) == (
        "theoddsapi", "fromfile", True, 3,
    )


def test_real_environment_beats_env_file(dotenv):
    path = dotenv("PROPSAGE_MAX_GAMES=3\nPROPSAGE_LEAGUES=mlb\n")
    s = load({"PROPSAGE_MAX_GAMES": "8"}, env_file=path)
    assert (s.max_games, s.leagues) == (8, ("mlb",))


def test_real_environment_alias_beats_env_file_propsage_name(dotenv):
    path = dotenv("PROPSAGE_LEAGUES=mlb\n")
    assert load({"SUPPORTED_LEAGUES": "nfl"}, env_file=path).leagues == ("nfl",)


def test_os_environ_is_the_default_source(monkeypatch, tmp_path):
    monkeypatch.setenv("PROPSAGE_MOCK_GAMES", "21")
    assert load_settings(env_file=tmp_path / "none").mock_games == 21


# --- bad values --------------------------------------------------------------------------------

@pytest.mark.parametrize(("env", "message"), [
    ({"PROPSAGE_LEAGUES": "nfl,xfl"},
     "PROPSAGE_LEAGUES: unknown league 'xfl'; allowed: cfb, nfl, nba, mlb"),
    ({"NEXT_PUBLIC_LEAGUES": "xfl"}, "NEXT_PUBLIC_LEAGUES: unknown league 'xfl'"),
    ({"PROPSAGE_LEAGUES": ","}, "PROPSAGE_LEAGUES: needs at least one league"),
    ({"PROPSAGE_PROVIDER": "sportradar"},
     "PROPSAGE_PROVIDER: unknown value 'sportradar'; allowed: mock, theoddsapi, replay"),
    ({"PROPSAGE_REALTIME": "maybe"}, "PROPSAGE_REALTIME: expected a boolean, got 'maybe'"),
    ({"ODDS_PROVIDERS": "draftkings,stake"}, "ODDS_PROVIDERS: unknown book 'stake'; allowed: "),
    ({"PROPSAGE_MARKETS": "passing_yds"}, "PROPSAGE_MARKETS: unknown market 'passing_yds'"),
    ({"PROPSAGE_MAX_GAMES": "0"}, "PROPSAGE_MAX_GAMES: expected an integer >= 1, got 0"),
    ({"MAX_CONCURRENT_GAMES": "ten"},
     "MAX_CONCURRENT_GAMES: expected an integer >= 1, got 'ten'"),
    ({"PROPSAGE_LIVE_INTERVAL": "-1"},
     "PROPSAGE_LIVE_INTERVAL: expected a number of seconds > 0, got '-1'"),
    ({"PROPSAGE_PREGAME_INTERVAL": "nan"}, "PROPSAGE_PREGAME_INTERVAL: expected a number of"),
    ({"NEXT_PUBLIC_UPDATE_INTERVAL": "0"},
     "NEXT_PUBLIC_UPDATE_INTERVAL: expected a number of milliseconds > 0, got '0'"),
    ({"PROPSAGE_REPLAY_SPEED": "fast"}, "PROPSAGE_REPLAY_SPEED: expected a number > 0"),
    ({"PROPSAGE_REGIONS": "us,asia"},
     "PROPSAGE_REGIONS: unknown region 'asia'; allowed: us, us2, uk, eu, au"),
    ({"PROPSAGE_MOCK_SEED": "1.5"}, "PROPSAGE_MOCK_SEED: expected an integer, got '1.5'"),
    ({"PROPSAGE_MOCK_GAMES": "0"}, "PROPSAGE_MOCK_GAMES: expected an integer >= 1"),
    ({"PROPSAGE_QUOTA_FLOOR": "-5"}, "PROPSAGE_QUOTA_FLOOR: expected an integer >= 0"),
    ({"PROPSAGE_STALE_AFTER": "0"}, "PROPSAGE_STALE_AFTER: expected a number of seconds > 0"),
    ({"PROPSAGE_LOG_LEVEL": "loud"}, "PROPSAGE_LOG_LEVEL: unknown log level 'loud'; allowed: "),
    ({"PROPSAGE_ODDS_API_BASE_URL": "api.the-odds-api.com"},
     "PROPSAGE_ODDS_API_BASE_URL: expected an http(s) URL"),
    ({"PROPSAGE_PROVIDER": "theoddsapi"},
     "PROPSAGE_ODDS_API_KEY: required when PROPSAGE_PROVIDER=theoddsapi"),
    ({"PROPSAGE_PROVIDER": "replay"},
     "PROPSAGE_REPLAY_SOURCE: required when PROPSAGE_PROVIDER=replay"),
])
def test_bad_value_names_the_variable_and_what_is_allowed(env, message):
    with pytest.raises(ConfigError) as info:
        load(env)
    assert str(info.value).startswith(message)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_bad_value_in_env_file_names_the_variable(dotenv):
    with pytest.raises(ConfigError, match="^PROPSAGE_MAX_GAMES: "):
        load(env_file=dotenv("PROPSAGE_MAX_GAMES=lots\n"))


# --- secrets ---------------------------------------------------------------------------------

def test_api_key_never_appears_in_repr_or_str():
    s = load({"PROPSAGE_PROVIDER": "theoddsapi", "PROPSAGE_ODDS_API_KEY": "sk-very-secret-42"})
    assert "sk-very-secret-42" not in repr(s)
    assert "sk-very-secret-42" not in str(s)
    assert "Secret(***)" in repr(s)
    assert s.odds_api_key.get() == "sk-very-secret-42"


def test_secret_hides_itself_in_formatting():
    secret = Secret("hunter2")
    assert f"{secret} {secret!r}" == "Secret(***) Secret(***)"


# --- overrides -------------------------------------------------------------------------------

def test_with_overrides_returns_a_validated_copy():
    base = load()
    s = base.with_overrides(provider="replay", replay_source=Path("cap.jsonl"), replay_speed=10,
                            db_path=None, leagues="nfl,nba")
    assert (s.provider, s.replay_source, s.replay_speed, s.leagues) == (
        "replay", Path("cap.jsonl"), 10.0, ("nfl", "nba"),
    )
    assert s.db_path == base.db_path
    assert base.provider == "mock"


def test_with_overrides_rejects_bad_values():
    with pytest.raises(ConfigError, match="^leagues: unknown league 'xfl'"):
        load().with_overrides(leagues=("xfl",))


def test_with_overrides_still_needs_a_key_for_the_odds_api():
    with pytest.raises(ConfigError, match="PROPSAGE_ODDS_API_KEY"):
        load().with_overrides(provider="theoddsapi")


def test_with_overrides_rejects_unknown_settings():
    with pytest.raises(ConfigError, match="unknown setting"):
        load().with_overrides(colour="blue")


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        load().provider = "replay"
