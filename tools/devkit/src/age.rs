//! Makes stored records look older than they are, for the browser journeys that wait out a time.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::Email;
use store::Store;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Item = std::collections::HashMap<String, AttributeValue>;

/// Makes every session of `email` look as if it last proved its user's identity long ago, so the
/// next action that lowers security asks for a step-up. Returns how many sessions.
pub async fn age_sessions(store: &Store, email: &str) -> Result<usize, Error> {
    let user = store.find_user_by_email(&Email::parse(email)?).await?.ok_or("no such user")?;
    let found = store
        .client()
        .query()
        .table_name(store.table())
        .index_name(store::keys::GSI1)
        .key_condition_expression("#pk = :pk")
        .expression_attribute_names("#pk", store::keys::GSI1_PK)
        .expression_attribute_values(":pk", AttributeValue::S(store::keys::sessions_of(&user.id)))
        .send()
        .await?;
    let sessions = found.items.unwrap_or_default();
    for session in &sessions {
        let key = Item::from([
            (store::keys::PK.to_owned(), session[store::keys::PK].clone()),
            (store::keys::SK.to_owned(), session[store::keys::SK].clone()),
        ]);
        update(store, key, "SET reauth_at = :v", AttributeValue::N("0".into()), None).await?;
    }
    Ok(sessions.len())
}

/// Makes the last activation email to `email` look sent one second more than the resend cool-down
/// ago: past it, and still valid. Returns whether there was one.
pub async fn age_email_code(store: &Store, email: &str) -> Result<bool, Error> {
    let user = store.find_user_by_email(&Email::parse(email)?).await?.ok_or("no such user")?;
    let age = AttributeValue::N((domain::email_code::RESEND_COOLDOWN_SECONDS + 1).to_string());
    let sent = Some("attribute_exists(sent_at)");
    match update(store, store::enroll_key(&user), "SET sent_at = sent_at - :v", age, sent).await {
        Ok(()) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

type UpdateError =
    aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError>;

/// One raw write to the item at `key`: `expression` with its one value `:v`, where `condition`
/// holds when one is given. Bypasses the store on purpose: no flow of the product ages a record.
async fn update(
    store: &Store,
    key: Item,
    expression: &str,
    value: AttributeValue,
    condition: Option<&str>,
) -> Result<(), UpdateError> {
    store
        .client()
        .update_item()
        .table_name(store.table())
        .set_key(Some(key))
        .update_expression(expression)
        .expression_attribute_values(":v", value)
        .set_condition_expression(condition.map(str::to_owned))
        .send()
        .await?;
    Ok(())
}
