//! Ended sessions this node knows of: the one set shared with the services
//! (`chat_common::revocations`); the socket layer acts on it and Redis
//! spreads what this node learns.

pub use chat_common::revocations::*;
