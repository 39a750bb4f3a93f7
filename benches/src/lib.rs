//! Benches of the token, session and conversion paths; see `benches/` and `src/bin/`.

use auth_core::{AuthService, ClientInfo, NewApiKey, ReauthProof, Registration, TokenPair};

/// The benches' user and password.
pub const USER: (&str, &str) = ("bench", "Passw0rd!");

/// Registers [`USER`] with `auth`.
pub async fn register_user(auth: &AuthService) {
    let registration = Registration {
        login: USER.0.into(),
        password: USER.1.into(),
        ..Default::default()
    };
    auth.register(registration, &ClientInfo::default())
        .await
        .expect("register the bench user");
}

/// A new session of [`USER`].
pub async fn login(auth: &AuthService) -> TokenPair {
    auth.login(USER.0, USER.1, ClientInfo::default())
        .await
        .expect("log the bench user in")
}

/// An API key of [`USER`] named `name`, with no limit of its own: a session signs
/// in, re-authenticates and creates it.
pub async fn api_key(auth: &AuthService, name: &str) -> String {
    let pair = login(auth).await;
    let who = auth
        .authenticate(&pair.access_token)
        .await
        .expect("the bench user's session");
    auth.reauthenticate(
        &who,
        ReauthProof::Password(USER.1.into()),
        &ClientInfo::default(),
    )
    .await
    .expect("re-authenticate the bench user");
    let new = NewApiKey {
        name: name.into(),
        ..NewApiKey::default()
    };
    let created = auth.create_api_key(&who, new).await.expect("an API key");
    created.key.expose().to_owned()
}

pub mod pgbench {
    //! The database's own limits, measured with `pgbench` on the database under test:
    //! the baselines our figures are compared with.

    use std::process::{Command, Stdio};

    /// `pgbench` running `sql` from `clients` clients for 5 s against `url`, in
    /// transactions per second, or `None` when `pgbench` is not installed or fails.
    /// `:client_id` names each client's own row.
    pub fn tps(url: &str, sql: &str, clients: u32) -> Option<f64> {
        let script = std::env::temp_dir().join(format!("pgbench-{}.sql", std::process::id()));
        std::fs::write(&script, format!("{sql};\n")).ok()?;
        let out = Command::new("pgbench")
            .args(["-n", "-T", "5", "-j", "2", "-M", "prepared"])
            .args(["-c", &clients.to_string(), "-f"])
            .arg(&script)
            .arg(url)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        std::fs::remove_file(&script).ok();
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find(|l| l.starts_with("tps = "))
            .and_then(|l| l["tps = ".len()..].split_whitespace().next()?.parse().ok())
    }

    /// Creates `public.bench_rows` (256 rows) once; `false` when `psql` fails.
    fn rows(url: &str) -> bool {
        let setup = "CREATE TABLE IF NOT EXISTS public.bench_rows (id int PRIMARY KEY, n bigint NOT NULL); \
                     INSERT INTO public.bench_rows SELECT g, 0 FROM generate_series(0, 255) g ON CONFLICT DO NOTHING";
        Command::new("psql")
            .args(["-q", "-c", setup, url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// A primary-key `SELECT`, each client on its own row.
    pub fn primary_key_select(url: &str, clients: u32) -> Option<f64> {
        rows(url)
            .then(|| {
                tps(
                    url,
                    "SELECT n FROM public.bench_rows WHERE id = :client_id",
                    clients,
                )
            })
            .flatten()
    }

    /// A one-row `UPDATE ... RETURNING`, each client on its own row.
    pub fn one_row_update(url: &str, clients: u32) -> Option<f64> {
        rows(url)
            .then(|| {
                tps(
                    url,
                    "UPDATE public.bench_rows SET n = n + 1 WHERE id = :client_id RETURNING n",
                    clients,
                )
            })
            .flatten()
    }

    /// The same `UPDATE`, every client on one shared row.
    pub fn shared_row_update(url: &str, clients: u32) -> Option<f64> {
        rows(url)
            .then(|| {
                tps(
                    url,
                    "UPDATE public.bench_rows SET n = n + 1 WHERE id = 0 RETURNING n",
                    clients,
                )
            })
            .flatten()
    }
}

/// A daily rate history in the ECB's shape, for the dated-rate benches.
pub mod history {
    use exchange_core::source::RateObservation;
    use exchange_core::{CurrencyCode, Rate};

    /// Thirty currencies the ECB publishes against the euro.
    pub const CODES: [&str; 30] = [
        "USD", "JPY", "BGN", "CZK", "DKK", "GBP", "HUF", "PLN", "RON", "SEK", "CHF", "ISK", "NOK",
        "TRY", "AUD", "BRL", "CAD", "CNY", "HKD", "IDR", "ILS", "INR", "KRW", "MXN", "MYR", "NZD",
        "PHP", "SGD", "THB", "ZAR",
    ];

    /// Every weekday of `years` years from 3 January 2000, a rate of each of the
    /// [`CODES`] against EUR (made up, four decimals, drifting day by day): about
    /// 196,000 observations for 25 years.
    pub fn ecb_history(years: i32) -> Vec<RateObservation> {
        let eur = CurrencyCode::parse("EUR").expect("code");
        let first = time::macros::date!(2000 - 01 - 03);
        let last =
            time::Date::from_calendar_date(2000 + years, time::Month::January, 1).expect("a day");
        let codes: Vec<CurrencyCode> = CODES
            .iter()
            .map(|c| CurrencyCode::parse(c).expect("code"))
            .collect();
        let mut out = Vec::new();
        let mut day = first;
        let mut n: u64 = 0;
        while day < last {
            if day.weekday().number_from_monday() <= 5 {
                for (i, code) in codes.iter().enumerate() {
                    n += 1;
                    let base = 10_000 + (i as u64) * 3_517;
                    let drift = (n.wrapping_mul(2_654_435_761) >> 7) % 900;
                    let rate =
                        format!("{}.{:04}", (base + drift) / 10_000, (base + drift) % 10_000);
                    out.push(RateObservation {
                        base: eur,
                        target: *code,
                        rate: Rate::parse(&rate).expect("rate"),
                        as_of: day,
                        source: "ecb".into(),
                    });
                }
            }
            day = day.next_day().expect("a day");
        }
        out
    }
}
