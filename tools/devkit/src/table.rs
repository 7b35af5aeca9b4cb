//! Creates the DynamoDB table described by the template's `AWS::DynamoDB::Table` resource.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde_yaml::Value;
use store::Store;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The table resource's `Properties` from the template text.
pub fn table_properties(template: &str) -> Result<Value, Error> {
    let doc: Value = serde_yaml::from_str(template)?;
    let resources = doc.get("Resources").and_then(Value::as_mapping).ok_or("template has no Resources")?;
    let tables: Vec<&Value> = resources
        .values()
        .filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::DynamoDB::Table"))
        .collect();
    match tables.as_slice() {
        [table] => table.get("Properties").cloned().ok_or_else(|| "table has no Properties".into()),
        _ => Err(format!("expected one AWS::DynamoDB::Table, found {}", tables.len()).into()),
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> Result<&'a str, Error> {
    v.get(key).and_then(Value::as_str).ok_or_else(|| format!("missing {key}").into())
}

fn key_schema(v: &Value) -> Result<Vec<KeySchemaElement>, Error> {
    let list = v.get("KeySchema").and_then(Value::as_sequence).ok_or("missing KeySchema")?;
    list.iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(str_of(k, "AttributeName")?)
                .key_type(KeyType::from(str_of(k, "KeyType")?))
                .build()?)
        })
        .collect()
}

/// Creates `table_name` with the keys, index and TTL the template declares.
pub async fn create_table(store: &Store, template: &str) -> Result<(), Error> {
    let props = table_properties(template)?;
    let client = store.client();
    let mut create = client
        .create_table()
        .table_name(store.table())
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&props)?));
    for def in props
        .get("AttributeDefinitions")
        .and_then(Value::as_sequence)
        .ok_or("missing AttributeDefinitions")?
    {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(str_of(def, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(str_of(def, "AttributeType")?))
                .build()?,
        );
    }
    for gsi in props.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).into_iter().flatten() {
        let projection = gsi.get("Projection").ok_or("index without Projection")?;
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(str_of(gsi, "IndexName")?)
                .set_key_schema(Some(key_schema(gsi)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(str_of(projection, "ProjectionType")?))
                        .set_non_key_attributes(
                            projection.get("NonKeyAttributes").and_then(Value::as_sequence).map(|names| {
                                names.iter().filter_map(Value::as_str).map(str::to_owned).collect()
                            }),
                        )
                        .build(),
                )
                .build()?,
        );
    }
    create.send().await.map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
    if let Some(ttl) = props.get("TimeToLiveSpecification") {
        client
            .update_time_to_live()
            .table_name(store.table())
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(str_of(ttl, "AttributeName")?)
                    .enabled(ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(false))
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_table_uses_the_store_keys() {
        let template = std::fs::read_to_string(crate::template_path()).unwrap();
        let props = table_properties(&template).unwrap();
        let keys: Vec<(String, String)> = key_schema(&props)
            .unwrap()
            .iter()
            .map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned()))
            .collect();
        assert_eq!(
            keys,
            [
                (store::keys::PK.to_owned(), "HASH".to_owned()),
                (store::keys::SK.to_owned(), "RANGE".to_owned())
            ]
        );
        let gsi = &props["GlobalSecondaryIndexes"][0];
        assert_eq!(str_of(gsi, "IndexName").unwrap(), store::keys::GSI1);
        let gsi_keys: Vec<String> =
            key_schema(gsi).unwrap().iter().map(|k| k.attribute_name().to_owned()).collect();
        assert_eq!(gsi_keys, [store::keys::GSI1_PK, store::keys::GSI1_SK]);
        assert_eq!(
            str_of(&props["TimeToLiveSpecification"], "AttributeName").unwrap(),
            store::keys::EXPIRES_AT
        );
    }

    #[test]
    fn each_column_of_the_grid_has_its_index_in_the_template() {
        let template = std::fs::read_to_string(crate::template_path()).unwrap();
        let props = table_properties(&template).unwrap();
        let indexes = props["GlobalSecondaryIndexes"].as_sequence().unwrap();
        for column in store::Column::ALL {
            let gsi = indexes.iter().find(|g| str_of(g, "IndexName").unwrap() == column.index()).unwrap();
            let keys: Vec<String> =
                key_schema(gsi).unwrap().iter().map(|k| k.attribute_name().to_owned()).collect();
            assert_eq!(keys, [store::keys::GSI2_PK, column.attribute()], "{column:?}");
        }
    }
}
