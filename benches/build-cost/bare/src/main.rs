use axum::{Json, Router, extract::State, routing::get};
use sqlx::PgPool;

async fn count(State(pool): State<PgPool>) -> Json<serde_json::Value> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_class")
        .fetch_one(&pool)
        .await
        .unwrap();
    Json(serde_json::json!({ "n": n }))
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect_lazy("postgres://postgres@127.0.0.1/postgres").unwrap();
    let app = Router::new().route("/", get(count)).with_state(pool);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
