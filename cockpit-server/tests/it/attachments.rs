//! Attachments: accepted by content, refused by type, size or mismatch with a problem
//! naming the field, stored with their checksum, cited by feedback.

// A failed step of a test should stop it with the reason; helpers here are test code too.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::Server;
use serde_json::{Value, json};

async fn upload(server: &Server, case: i64, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
    let token = server.token("w1", "grid_worker").await;
    let response = server
        .client
        .post(server.url(&format!("/api/cases/{case}/attachments?name=site.jpg")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn photos_are_checked_stored_and_cited() {
    let server = Server::start().await;
    let (status, case) = server
        .post_as(
            "d1",
            "dispatcher",
            "/api/cases",
            &json!({"description": "路灯不亮", "category": "06", "location": {"lon": 120.64, "lat": 27.97}}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let id = case["id"].as_i64().unwrap();

    // A small JPEG-signed file: accepted, with its SHA-256.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend((0..5000u32).map(|i| (i % 251) as u8));
    let (status, saved) = upload(&server, id, "image/jpeg", jpeg.clone()).await;
    assert_eq!(status, 201, "{saved}");
    assert_eq!(saved["size_bytes"], jpeg.len());
    assert_eq!(saved["content_type"], "image/jpeg");
    assert_eq!(saved["sha256"].as_str().unwrap().len(), 64);
    let attachment = saved["id"].as_str().unwrap().to_string();

    // Read back byte for byte.
    let token = server.token("d1", "dispatcher").await;
    let response = server
        .client
        .get(server.url(&format!("/api/attachments/{attachment}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().to_vec(), jpeg);

    // Refusals name the field.
    for (content_type, bytes, status, field) in [
        ("image/jpeg", b"<html>not a photo</html>".to_vec(), 400, "Content-Type"),
        ("application/x-msdownload", b"MZ\x90\0".to_vec(), 400, "Content-Type"),
        ("image/png", Vec::new(), 400, "body"),
        (
            "image/jpeg",
            {
                let mut big = vec![0xFF, 0xD8, 0xFF];
                big.resize(21 * 1024 * 1024, 0);
                big
            },
            413,
            "body",
        ),
    ] {
        let (got, problem) = upload(&server, id, content_type, bytes).await;
        assert_eq!((got, problem["field"].as_str()), (status, Some(field)), "{content_type}: {problem}");
    }
    let (status, _) = upload(&server, 999_999, "image/jpeg", jpeg.clone()).await;
    assert_eq!(status, 404);

    // Feedback cites the photo; the timeline shows it.
    let (status, body) = server
        .post_as(
            "d1",
            "dispatcher",
            &format!("/api/cases/{id}/actions"),
            &json!({"action": "dispatch", "to": {"kind": "person", "user": "w1"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for action in
        [json!({"action": "accept"}), json!({"action": "feedback", "text": "已更换灯泡", "photos": [attachment]})]
    {
        let (status, body) = server.post_as("w1", "grid_worker", &format!("/api/cases/{id}/actions"), &action).await;
        assert_eq!(status, 200, "{action}: {body}");
    }
    let (_, full) = server.get_as("dispatcher", &format!("/api/cases/{id}")).await;
    let last = full["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["attachments"], json!([attachment]));
}
