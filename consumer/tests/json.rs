//! Item: the crates must not change how the application's JSON parses.

use std::sync::Arc;

use exchange_core::ExchangeService;
use exchange_core::memory::MemoryStore;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, PartialEq)]
struct Price {
    amount: f64,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Order {
    id: u32,
    #[serde(flatten)]
    price: Price,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(untagged)]
enum Reading {
    Number(f64),
    Text(String),
}

#[test]
fn an_f64_inside_flatten_still_parses() {
    // With serde_json's `arbitrary_precision` this fails: "invalid type: map, expected f64".
    let order: Order = serde_json::from_str(r#"{"id": 7, "amount": 12.5}"#).unwrap();
    assert_eq!(
        order,
        Order {
            id: 7,
            price: Price { amount: 12.5 }
        }
    );
}

#[test]
fn an_untagged_enum_still_matches_numbers() {
    let r: Vec<Reading> = serde_json::from_str(r#"[0.5, "high", 3]"#).unwrap();
    assert_eq!(
        r,
        [
            Reading::Number(0.5),
            Reading::Text("high".into()),
            Reading::Number(3.0)
        ]
    );
}

#[test]
fn numbers_parsed_into_values_are_plain_f64() {
    let v: serde_json::Value = serde_json::from_str("0.1").unwrap();
    assert!(v.is_f64());
    assert_eq!(v.as_f64(), Some(0.1));
}

#[tokio::test]
async fn exchange_types_still_serialize_exact_numbers_even_inside_the_apps_types() {
    let svc = ExchangeService::new(Arc::new(MemoryStore::new()));
    svc.add_currency("US Dollar", "USD", "$").await.unwrap();
    svc.add_currency("Euro", "EUR", "€").await.unwrap();
    svc.add_rate("USD", "EUR", "0.123456789012").await.unwrap();
    let conversion = svc.convert("USD", "EUR", "100000000000.01").await.unwrap();

    #[derive(Serialize)]
    struct Receipt {
        receipt: u32,
        #[serde(flatten)]
        conversion: exchange_core::Conversion,
    }
    let json = serde_json::to_string(&Receipt {
        receipt: 1,
        conversion,
    })
    .unwrap();
    // More digits than an f64 holds, written as numbers, not strings.
    assert!(json.contains(r#""rate":0.123457"#), "{json}");
    assert!(json.contains(r#""amount":100000000000.01"#), "{json}");
    assert!(
        json.contains(r#""converted_amount":12345678901.20"#),
        "{json}"
    );
}
