//! The European Central Bank's euro foreign exchange reference rates, in the XML of
//! its daily, 90-day and full-history files (`eurofxref-daily.xml`,
//! `eurofxref-hist-90d.xml`, `eurofxref-hist.xml`):
//!
//! ```xml
//! <gesmes:Envelope ...>
//!   <Cube>
//!     <Cube time="2024-01-05">
//!       <Cube currency="USD" rate="1.0921"/>
//!       <Cube currency="JPY" rate="158.08"/>
//!     </Cube>
//!   </Cube>
//! </gesmes:Envelope>
//! ```
//!
//! Each rate is units of the currency per euro, for the day of its `time` cube; the
//! ECB publishes on TARGET business days only, so weekends and holidays have no cube.
//!
//! ```
//! use exchange_core::source::ecb;
//!
//! let xml = r#"<Envelope><Cube><Cube time="2024-01-05">
//!     <Cube currency="USD" rate="1.0921"/><Cube currency="JPY" rate="158.08"/>
//! </Cube></Cube></Envelope>"#;
//! let rates = ecb::parse(xml).unwrap();
//! assert_eq!(rates.len(), 2);
//! assert_eq!((rates[1].base.as_str(), rates[1].target.as_str()), ("EUR", "JPY"));
//! assert_eq!(rates[1].rate.value().to_string(), "158.08");
//! assert_eq!(rates[1].as_of.to_string(), "2024-01-05");
//! ```

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::{RateObservation, RateSource, SourceError};
use crate::error::BoxError;
use crate::types::{CurrencyCode, Rate};

/// The name recorded as the source of the ECB's observations.
pub const SOURCE: &str = "ecb";

/// Parses an ECB reference-rate file: every rate of every day, in file order. All or
/// nothing: a file that is not well-formed XML, a day or a rate without its
/// attributes, a code that is not three uppercase letters, a rate that is not a
/// positive decimal, a date that is not `YYYY-MM-DD`, a currency twice on one day, a
/// rate outside a day, or a file with no rate at all is [`SourceError::Malformed`].
pub fn parse(xml: &str) -> Result<Vec<RateObservation>, SourceError> {
    let base = CurrencyCode::parse("EUR").expect("a valid code");
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    // The day of the `time` cube being read, and how deep cubes are nested.
    let mut day: Option<(time::Date, usize)> = None;
    let mut depth = 0usize;
    // Elements open at any moment: a file cut short ends with some still open.
    let mut open = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(format!("not well-formed XML: {e}")))?;
        match &event {
            Event::Start(_) => open += 1,
            Event::End(_) => open = open.saturating_sub(1),
            _ => {}
        }
        match event {
            Event::Start(e) if is_cube(&e) => {
                depth += 1;
                if let Some(time) = attribute(&e, "time")? {
                    if day.is_some() {
                        return Err(malformed("a day inside a day".into()));
                    }
                    day = Some((date(&time)?, depth));
                } else if attribute(&e, "currency")?.is_some() {
                    let (as_of, _) = day.ok_or_else(|| malformed("a rate outside a day".into()))?;
                    out.push(observation(&e, base, as_of, &mut seen)?);
                }
            }
            Event::Empty(e) if is_cube(&e) => {
                if attribute(&e, "time")?.is_some() {
                    // A day without rates: nothing to record.
                    continue;
                }
                if attribute(&e, "currency")?.is_some() {
                    let (as_of, _) = day.ok_or_else(|| malformed("a rate outside a day".into()))?;
                    out.push(observation(&e, base, as_of, &mut seen)?);
                }
            }
            Event::End(e) if e.local_name().as_ref() == "Cube" => {
                if day.is_some_and(|(_, d)| d == depth) {
                    day = None;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof if open > 0 => return Err(malformed("the file is cut short".into())),
            Event::Eof => break,
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(malformed("no rates".into()));
    }
    Ok(out)
}

fn malformed(what: String) -> SourceError {
    SourceError::Malformed(what)
}

fn is_cube(e: &BytesStart<'_>) -> bool {
    e.local_name().as_ref() == "Cube"
}

/// The value of attribute `name`, unescaped.
fn attribute(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, SourceError> {
    for a in e.attributes() {
        let a = a.map_err(|err| malformed(format!("bad attribute: {err}")))?;
        if a.key.local_name().as_ref() == name {
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| malformed(format!("bad attribute value: {err}")))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn date(text: &str) -> Result<time::Date, SourceError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format).map_err(|_| malformed(format!("bad date {text:?}")))
}

fn observation(
    e: &BytesStart<'_>,
    base: CurrencyCode,
    as_of: time::Date,
    seen: &mut HashSet<(time::Date, CurrencyCode)>,
) -> Result<RateObservation, SourceError> {
    let code = attribute(e, "currency")?.unwrap_or_default();
    let target =
        CurrencyCode::parse(&code).map_err(|_| malformed(format!("bad currency {code:?}")))?;
    if target == base || !seen.insert((as_of, target)) {
        return Err(malformed(format!(
            "{code} twice on {as_of}, or the euro itself"
        )));
    }
    let raw = attribute(e, "rate")?.ok_or_else(|| malformed(format!("{code} has no rate")))?;
    let rate = Rate::parse(&raw).map_err(|_| malformed(format!("bad rate {raw:?} for {code}")))?;
    Ok(RateObservation {
        base,
        target,
        rate,
        as_of,
        source: SOURCE.to_owned(),
    })
}

/// Fetches the text of an ECB file (over HTTP, from a file, from a test's server).
pub type Fetch =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>> + Send + Sync>;

/// The ECB's reference rates as a [`RateSource`]: `fetch` gets the file's text, which
/// [`parse`] reads. The crate does no I/O of its own: the application says how to get
/// the file.
#[derive(Clone)]
pub struct EcbSource {
    fetch: Fetch,
}

impl EcbSource {
    /// A source reading the file `fetch` gets.
    pub fn new(fetch: Fetch) -> Self {
        Self { fetch }
    }
}

impl std::fmt::Debug for EcbSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EcbSource")
    }
}

#[async_trait::async_trait]
impl RateSource for EcbSource {
    fn name(&self) -> &str {
        SOURCE
    }

    async fn fetch(&self) -> Result<Vec<RateObservation>, SourceError> {
        let xml = (self.fetch)().await.map_err(SourceError::Fetch)?;
        parse(&xml)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAILY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='2024-01-05'>
			<Cube currency='USD' rate='1.0921'/>
			<Cube currency='JPY' rate='158.08'/>
			<Cube currency='KRW' rate='1437.63'/>
			<Cube currency='GBP' rate='0.86108'/>
		</Cube>
	</Cube>
</gesmes:Envelope>"#;

    fn history() -> String {
        // Friday, then Monday: no cube for the weekend.
        DAILY.replace(
            "\t</Cube>\n</gesmes:Envelope>",
            "\t\t<Cube time=\"2024-01-08\"><Cube currency=\"USD\" rate=\"1.0946\"/></Cube>\n\t</Cube>\n</gesmes:Envelope>",
        )
    }

    #[test]
    fn a_daily_file_gives_every_rate_of_its_day() {
        let rates = parse(DAILY).unwrap();
        let shown: Vec<String> = rates
            .iter()
            .map(|r| format!("{} {}{} {}", r.as_of, r.base, r.target, r.rate.value()))
            .collect();
        assert_eq!(
            shown,
            [
                "2024-01-05 EURUSD 1.0921",
                "2024-01-05 EURJPY 158.08",
                "2024-01-05 EURKRW 1437.63",
                "2024-01-05 EURGBP 0.86108",
            ]
        );
        assert!(rates.iter().all(|r| r.source == "ecb"));
    }

    #[test]
    fn a_history_file_gives_each_day_its_own_rates() {
        let rates = parse(&history()).unwrap();
        assert_eq!(rates.len(), 5);
        let monday = rates.last().unwrap();
        assert_eq!(
            (monday.as_of.to_string(), monday.rate.value().to_string()),
            ("2024-01-08".into(), "1.0946".into())
        );
    }

    #[test]
    fn a_malformed_file_gives_nothing() {
        let cases = [
            (
                "not xml",
                "<Envelope><Cube><Cube time='2024-01-05'><Cube currency='USD' rate='1.1'/></Cube>"
                    .to_owned(),
            ),
            ("no rates", "<Envelope><Cube></Cube></Envelope>".to_owned()),
            ("empty", String::new()),
            ("bad rate", DAILY.replace("rate='1.0921'", "rate='abc'")),
            ("zero rate", DAILY.replace("rate='1.0921'", "rate='0'")),
            ("exponent", DAILY.replace("rate='1.0921'", "rate='1e3'")),
            ("no rate", DAILY.replace(" rate='1.0921'", "")),
            ("bad code", DAILY.replace("'USD'", "'usd'")),
            ("the euro", DAILY.replace("'USD'", "'EUR'")),
            ("twice", DAILY.replace("'JPY'", "'USD'")),
            ("bad date", DAILY.replace("2024-01-05", "05/01/2024")),
            ("no such date", DAILY.replace("2024-01-05", "2024-02-30")),
            (
                "rate outside a day",
                "<Envelope><Cube><Cube currency='USD' rate='1.1'/></Cube></Envelope>".to_owned(),
            ),
        ];
        for (what, xml) in cases {
            assert!(
                matches!(parse(&xml), Err(SourceError::Malformed(_))),
                "{what}"
            );
        }
    }

    proptest::proptest! {
        /// Any text, and any cut of a good file, is parsed or refused, never a panic;
        /// a cut file never yields part of its rates.
        #[test]
        fn no_input_panics(text in ".{0,300}", cut in 0usize..700) {
            let _ = parse(&text);
            let cut = DAILY.char_indices().map(|(i, _)| i).take_while(|i| *i <= cut).last().unwrap_or(0);
            if let Ok(rates) = parse(&DAILY[..cut]) {
                proptest::prop_assert_eq!(rates.len(), 4);
            }
        }
    }

    #[tokio::test]
    async fn the_source_fetches_then_parses() {
        let good = EcbSource::new(Arc::new(|| Box::pin(async { Ok(DAILY.to_owned()) })));
        assert_eq!(good.name(), "ecb");
        assert_eq!(good.fetch().await.unwrap().len(), 4);
        let down = EcbSource::new(Arc::new(|| {
            Box::pin(async { Err("connection refused".into()) })
        }));
        assert!(matches!(down.fetch().await, Err(SourceError::Fetch(_))));
    }
}
