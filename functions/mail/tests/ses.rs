//! Sends through the real SES client to the local SES endpoint (`AWS_ENDPOINT_URL_SES`, started by
//! `scripts/test`) and reads the message back from its store.

use mail::{Email, Mailer};

#[tokio::test]
async fn a_message_reaches_the_local_ses_store_with_text_and_html() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SES")
        .expect("AWS_ENDPOINT_URL_SES must point at the local SES server: run ./scripts/test");
    let to = format!("mail-test-{}@example.test", std::process::id());
    let mailer = Mailer::from_env("Dashboard <no-reply@dashboard.local>").await;
    mailer.send(&to, &Email::verification_code("Sam", "424242", 15)).await.unwrap();

    let store: serde_json::Value =
        serde_json::from_str(&reqwest::get(format!("{endpoint}/store")).await.unwrap().text().await.unwrap())
            .unwrap();
    let message = store["emails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination"]["to"].to_string().contains(&to))
        .expect("the message is in the local SES store");
    assert!(message["subject"].as_str().unwrap().contains("424242"));
    assert!(message["body"]["text"].as_str().unwrap().contains("424242"));
    assert!(message["body"]["html"].as_str().unwrap().contains("<p>"));
    assert!(message["from"].as_str().unwrap().contains("no-reply@dashboard.local"));
}
