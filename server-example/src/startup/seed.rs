//! Demo data for a first start in memory.

use exchange_core::ExchangeService;

use super::StartupError;

/// Demo currencies and USD-based rates, so `/exchange` works on first start.
pub const DEMO_CURRENCIES: &[(&str, &str, &str, &str)] = &[
    ("USD", "US Dollar", "$", ""),
    ("EUR", "Euro", "€", "0.92"),
    ("GBP", "Pound Sterling", "£", "0.79"),
    ("RUB", "Russian Ruble", "₽", "92.5"),
    ("JPY", "Japanese Yen", "¥", "151.3"),
    ("CNY", "Chinese Yuan", "¥", "7.24"),
    ("CHF", "Swiss Franc", "Fr", "0.88"),
    ("KZT", "Kazakhstani Tenge", "₸", "447.8"),
];

pub(super) async fn seed_demo_data(exchange: &ExchangeService) -> Result<(), StartupError> {
    let data = |e: exchange_core::ExchangeError| StartupError::Data(e.to_string());
    if !exchange.currencies().await.map_err(data)?.is_empty() {
        return Ok(());
    }
    for (code, name, sign, _) in DEMO_CURRENCIES {
        match exchange.add_currency(name, code, sign).await {
            Ok(_) | Err(exchange_core::ExchangeError::CurrencyExists) => {}
            Err(e) => return Err(data(e)),
        }
    }
    for (code, _, _, rate) in DEMO_CURRENCIES.iter().filter(|c| !c.3.is_empty()) {
        match exchange.add_rate("USD", code, rate).await {
            Ok(_) | Err(exchange_core::ExchangeError::PairExists) => {}
            Err(e) => return Err(data(e)),
        }
    }
    tracing::info!(
        currencies = DEMO_CURRENCIES.len(),
        "loaded demo currencies and rates"
    );
    Ok(())
}
