//! Benches of the token, session and conversion paths; see `benches/` and `src/bin/`.
