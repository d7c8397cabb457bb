use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, Object, Schema};

use crate::store::{Item, Store};

/// The seed's schema, exactly.
pub(crate) type TargetSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

pub(crate) fn build(store: Arc<Store>) -> TargetSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .data(store)
        .finish()
}

pub(crate) struct QueryRoot;

#[Object]
impl QueryRoot {
    /// One item by id.
    async fn get_item(&self, ctx: &Context<'_>, id: ID) -> Option<Item> {
        store(ctx).get(id.as_str())
    }

    /// Every item, by id.
    async fn get_items(&self, ctx: &Context<'_>) -> Vec<Item> {
        store(ctx).all()
    }

    /// Deletes every item (the seed has this as a query).
    async fn clear_items(&self, ctx: &Context<'_>) -> Option<bool> {
        store(ctx).clear();
        Some(true)
    }
}

pub(crate) struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Stores an item; an id already held returns the stored item unchanged.
    async fn create_item(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: String,
        body: String,
        timestamp: i32,
        brand: String,
    ) -> Option<Item> {
        Some(store(ctx).create(Item {
            id,
            name,
            body,
            timestamp,
            brand,
        }))
    }
}

fn store<'a>(ctx: &Context<'a>) -> &'a Arc<Store> {
    // The schema is always built with the store attached (see `build`).
    ctx.data_unchecked::<Arc<Store>>()
}
