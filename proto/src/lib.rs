//! The gRPC contracts between the gateway and the services, generated from
//! `proto/chat/*/v1/*.proto`. Packages are versioned: a breaking change gets
//! a new `v2` module beside `v1`.

pub mod auth {
    pub mod v1 {
        tonic::include_proto!("chat.auth.v1");
    }
}

pub mod message {
    pub mod v1 {
        tonic::include_proto!("chat.message.v1");
    }
}

pub mod media {
    pub mod v1 {
        tonic::include_proto!("chat.media.v1");
    }
}

/// Encoded `FileDescriptorSet` of every package, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("chat_descriptor");

pub use prost_types::Timestamp;
