//! Rooms and memberships (`chat.message.v1.RoomService`): who may join,
//! invite, remove, ban, promote and set topics, per role. Served by the
//! message service because `ListRooms` needs its read positions and last
//! messages, and the first direct message creates both memberships in the
//! same write as the message (see docs/ARCHITECTURE.md).

pub mod grpc;
pub mod model;
pub mod service;

pub use model::{Entry, Membership, Role, Room};
pub use service::Rooms;
