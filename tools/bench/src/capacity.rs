//! Read capacity the counted functions consume. The proxy in front of DynamoDB Local only names
//! calls, so an SDK interceptor on the counted store's client asks every read for
//! `ReturnConsumedCapacity=TOTAL` (which changes nothing else about the call) and adds up the
//! units DynamoDB reports: the figure covers whatever reads the store's code issues.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::{batch_get_item, get_item, query, scan, transact_get_items};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use store::Store;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Read units reported so far, and reads that came back without a figure.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reads {
    pub units: f64,
    pub unreported: usize,
}

#[derive(Clone, Debug, Default)]
pub struct ReadUnits(Arc<Mutex<Reads>>);

impl ReadUnits {
    /// `store` with this meter on its client.
    pub fn on(&self, store: &Store) -> Store {
        let config = store.client().config().to_builder().interceptor(self.clone()).build();
        Store::new(aws_sdk_dynamodb::Client::from_conf(config), store.table())
    }

    pub fn so_far(&self) -> Reads {
        *self.0.lock().expect("read units")
    }

    fn add(&self, consumed: Option<Vec<&ConsumedCapacity>>) {
        let mut reads = self.0.lock().expect("read units");
        match consumed {
            Some(list) => reads.units += list.iter().filter_map(|c| c.capacity_units).sum::<f64>(),
            None => reads.unreported += 1,
        }
    }
}

impl Intercept for ReadUnits {
    fn name(&self) -> &'static str {
        "ReadUnits"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Error> {
        let input = context.input_mut();
        let total = Some(ReturnConsumedCapacity::Total);
        if let Some(i) = input.downcast_mut::<get_item::GetItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<batch_get_item::BatchGetItemInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<query::QueryInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<scan::ScanInput>() {
            i.return_consumed_capacity = total;
        } else if let Some(i) = input.downcast_mut::<transact_get_items::TransactGetItemsInput>() {
            i.return_consumed_capacity = total;
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Error> {
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let consumed = if let Some(o) = output.downcast_ref::<get_item::GetItemOutput>() {
            o.consumed_capacity.as_ref().map(|c| vec![c])
        } else if let Some(o) = output.downcast_ref::<batch_get_item::BatchGetItemOutput>() {
            o.consumed_capacity.as_ref().map(|list| list.iter().collect())
        } else if let Some(o) = output.downcast_ref::<query::QueryOutput>() {
            o.consumed_capacity.as_ref().map(|c| vec![c])
        } else if let Some(o) = output.downcast_ref::<scan::ScanOutput>() {
            o.consumed_capacity.as_ref().map(|c| vec![c])
        } else if let Some(o) = output.downcast_ref::<transact_get_items::TransactGetItemsOutput>() {
            o.consumed_capacity.as_ref().map(|list| list.iter().collect())
        } else {
            return Ok(()); // a write
        };
        self.add(consumed);
        Ok(())
    }
}
