//! Protobuf's JSON mapping of the contracts' messages, read from the
//! descriptor set (so an `Any` payload is written out as its own message,
//! with its `@type`).

use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::Value;

fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(cogov_proto::FILE_DESCRIPTOR_SET)
            .expect("the contracts' descriptors")
    })
}

/// The JSON of `message`; null if the contracts do not describe it.
pub fn value_of<M: prost::Message + prost::Name>(message: &M) -> Value {
    pool()
        .get_message_by_name(&M::full_name())
        .and_then(|d| DynamicMessage::decode(d, message.encode_to_vec().as_slice()).ok())
        .and_then(|m| serde_json::to_value(&m).ok())
        .unwrap_or(Value::Null)
}

/// The JSON text of `message`, as bytes.
pub fn bytes_of<M: prost::Message + prost::Name>(message: &M) -> Vec<u8> {
    serde_json::to_vec(&value_of(message)).expect("a JSON value writes")
}
