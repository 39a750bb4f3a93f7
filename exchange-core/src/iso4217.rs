//! The ISO 4217 catalogue: alphabetic and numeric codes, names and minor units.
//!
//! The figures come from the `iso_currency` crate's table of the standard's current
//! list; [`iso_currency()`] looks one up by its alphabetic code.

use crate::types::CurrencyCode;

/// One currency of the ISO 4217 list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoCurrency {
    /// Alphabetic code, e.g. `JPY`.
    pub code: CurrencyCode,
    /// Numeric code, e.g. 392.
    pub numeric: u16,
    /// English name, e.g. "Japanese yen".
    pub name: String,
    /// Digits after the decimal point of its minor unit (JPY 0, USD 2, KWD 3, CLF 4);
    /// `None` where the standard gives none (gold, SDR and other special codes).
    pub minor_units: Option<u32>,
}

/// The ISO 4217 currency with this alphabetic code, if the standard lists one.
pub fn iso_currency(code: CurrencyCode) -> Option<IsoCurrency> {
    let iso = iso_currency::Currency::from_code(code.as_str())?;
    Some(IsoCurrency {
        code,
        numeric: iso.numeric(),
        name: iso.name().to_owned(),
        minor_units: iso.exponent().map(u32::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(code: &str) -> Option<u32> {
        iso_currency(CurrencyCode::parse(code).unwrap()).and_then(|c| c.minor_units)
    }

    /// The standard's figures for the currencies whose minor units are not 2, and a
    /// few that are.
    #[test]
    fn the_catalogue_has_the_standards_figures() {
        for (code, expected) in [
            ("JPY", 0),
            ("KRW", 0),
            ("ISK", 0),
            ("CLP", 0),
            ("VND", 0),
            ("BHD", 3),
            ("KWD", 3),
            ("JOD", 3),
            ("OMR", 3),
            ("TND", 3),
            ("IQD", 3),
            ("LYD", 3),
            ("CLF", 4),
            ("UYW", 4),
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
        ] {
            assert_eq!(units(code), Some(expected), "{code}");
        }
        for special in ["XAU", "XDR", "XXX"] {
            assert_eq!(units(special), None, "{special}");
        }
        let yen = iso_currency(CurrencyCode::parse("JPY").unwrap()).unwrap();
        assert_eq!((yen.numeric, yen.name.as_str()), (392, "Japanese yen"));
        assert_eq!(iso_currency(CurrencyCode::parse("BTC").unwrap()), None);
    }
}
