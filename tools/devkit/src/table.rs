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

/// Each entry of the list `key` in `v`, built by `build`.
fn each_of<T>(v: &Value, key: &str, build: impl Fn(&Value) -> Result<T, Error>) -> Result<Vec<T>, Error> {
    let list = v.get(key).and_then(Value::as_sequence).ok_or_else(|| format!("missing {key}"))?;
    list.iter().map(build).collect()
}

fn key_schema(v: &Value) -> Result<Vec<KeySchemaElement>, Error> {
    each_of(v, "KeySchema", |k| {
        let key_type = KeyType::from(str_of(k, "KeyType")?);
        Ok(KeySchemaElement::builder()
            .attribute_name(str_of(k, "AttributeName")?)
            .key_type(key_type)
            .build()?)
    })
}

/// Creates `table_name` with the keys, indexes and TTL the template declares.
pub async fn create_table(store: &Store, template: &str) -> Result<(), Error> {
    let props = table_properties(template)?;
    let indexes = props.get("GlobalSecondaryIndexes").and_then(Value::as_sequence).into_iter().flatten();
    let indexes: Vec<_> = indexes.map(global_secondary_index).collect::<Result<_, _>>()?;
    store
        .client()
        .create_table()
        .table_name(store.table())
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&props)?))
        .set_attribute_definitions(Some(attribute_definitions(&props)?))
        .set_global_secondary_indexes(Some(indexes).filter(|i| !i.is_empty()))
        .send()
        .await
        .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())?;
    if let Some(ttl) = props.get("TimeToLiveSpecification") {
        store
            .client()
            .update_time_to_live()
            .table_name(store.table())
            .time_to_live_specification(time_to_live(ttl)?)
            .send()
            .await?;
    }
    Ok(())
}

fn attribute_definitions(props: &Value) -> Result<Vec<AttributeDefinition>, Error> {
    each_of(props, "AttributeDefinitions", |def| {
        let attribute_type = ScalarAttributeType::from(str_of(def, "AttributeType")?);
        let name = str_of(def, "AttributeName")?;
        Ok(AttributeDefinition::builder().attribute_name(name).attribute_type(attribute_type).build()?)
    })
}

fn global_secondary_index(gsi: &Value) -> Result<GlobalSecondaryIndex, Error> {
    let projection = gsi.get("Projection").ok_or("index without Projection")?;
    let non_key_attributes = projection
        .get("NonKeyAttributes")
        .and_then(Value::as_sequence)
        .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect());
    Ok(GlobalSecondaryIndex::builder()
        .index_name(str_of(gsi, "IndexName")?)
        .set_key_schema(Some(key_schema(gsi)?))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::from(str_of(projection, "ProjectionType")?))
                .set_non_key_attributes(non_key_attributes)
                .build(),
        )
        .build()?)
}

fn time_to_live(ttl: &Value) -> Result<TimeToLiveSpecification, Error> {
    Ok(TimeToLiveSpecification::builder()
        .attribute_name(str_of(ttl, "AttributeName")?)
        .enabled(ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(false))
        .build()?)
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
