use serde_json::json;

use crate::support::{Namespace, QueryProcess, READER_KEY};

/// Every bad field is named in one problem+json; nothing is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_export_requests_name_each_bad_field() {
    let ns = Namespace::new().await;
    let service = QueryProcess::start(&ns, &[("QUERY_EXPORT_MAX_RANGE_DAYS", "7")]).await;
    let cases = [
        (
            json!({"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}),
            vec!["to"],
        ),
        (
            json!({"from": "2026-11-01T00:00:00Z", "to": "2026-11-30T00:00:00Z"}),
            vec!["to"],
        ),
        (
            json!({"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z", "status": "lost"}),
            vec!["status"],
        ),
        (
            json!({"from": "soon", "format": "xml"}),
            vec!["from", "to", "format"],
        ),
    ];
    for (body, fields) in cases {
        let (status, location, problem) = service.post_export(&body).await;
        assert_eq!(status, 422, "{problem}");
        assert!(location.is_none());
        let named: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{problem}");
    }
    let not_json = service
        .http
        .post(format!("{}/exports", service.url))
        .bearer_auth(READER_KEY)
        .header("content-type", "application/json")
        .body("{\"from\":")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(
        not_json.headers()["content-type"],
        "application/problem+json"
    );
    let unknown = service
        .http
        .get(format!("{}/exports/not-a-uuid", service.url))
        .bearer_auth(READER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let listed = service.get("/exports").await;
    assert_eq!(listed["exports"], json!([]), "no bad request was recorded");
    let anonymous = service
        .http
        .get(format!("{}/exports", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
