//! `chat.message.v1.RoomService` over [`Rooms`]: protobuf in, rules and
//! store calls, protobuf out. The acting user (`owner`, `user` of joins and
//! listings, `requester`, `by`) comes from the [`Caller`]; the role rules
//! then apply to them as to anyone.

use chat_common::caller::Caller;
use chat_common::time::millis_to_timestamp;
use chat_proto::message::v1 as pb;
use pb::room_service_server::RoomService;
use tonic::{Request, Response, Status};

use crate::grpc::message_to_pb;
use crate::rooms::{Role, Room, Rooms};

pub struct RoomGrpc {
    rooms: Rooms,
}

impl RoomGrpc {
    pub fn new(rooms: Rooms) -> RoomGrpc {
        RoomGrpc { rooms }
    }
}

fn role_to_pb(r: Role) -> i32 {
    match r {
        Role::Owner => pb::Role::Owner as i32,
        Role::Admin => pb::Role::Admin as i32,
        Role::Member => pb::Role::Member as i32,
    }
}

fn role_name(r: i32) -> &'static str {
    match pb::Role::try_from(r) {
        Ok(pb::Role::Owner) => "owner",
        Ok(pb::Role::Admin) => "admin",
        Ok(pb::Role::Member) => "member",
        _ => "",
    }
}

fn room_to_pb(r: Room) -> pb::Room {
    pb::Room {
        name: r.name,
        private: r.private,
        topic: r.topic,
        owner: r.owner.unwrap_or_default(),
        created: Some(millis_to_timestamp(r.created)),
    }
}

fn summary(room: Room, role: Option<Role>) -> pb::RoomSummary {
    pb::RoomSummary {
        room: Some(room_to_pb(room)),
        role: role.map_or(pb::Role::Unspecified as i32, role_to_pb),
    }
}

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl RoomService for RoomGrpc {
    async fn create_room(
        &self,
        request: Request<pb::CreateRoomRequest>,
    ) -> Answer<pb::RoomSummary> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.owner = caller.username("owner", &r.owner)?;
        let (room, role) = self
            .rooms
            .create(&r.room, r.private, &r.topic, &r.owner)
            .await?;
        Ok(Response::new(summary(room, Some(role))))
    }

    async fn join_room(&self, request: Request<pb::JoinRoomRequest>) -> Answer<pb::RoomSummary> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.user = caller.username("user", &r.user)?;
        let (room, role) = self.rooms.join(&r.room, &r.user).await?;
        Ok(Response::new(summary(room, Some(role))))
    }

    async fn list_rooms(
        &self,
        request: Request<pb::ListRoomsRequest>,
    ) -> Answer<pb::ListRoomsResponse> {
        let caller = Caller::of(&request)?;
        let user = caller.username("user", &request.into_inner().user)?;
        let entries = self.rooms.list(&user).await?;
        let rooms = entries
            .into_iter()
            .map(|e| pb::RoomEntry {
                room: Some(room_to_pb(e.room)),
                role: role_to_pb(e.role),
                unread: e.unread,
                last_message: e.last_message.map(message_to_pb),
            })
            .collect();
        Ok(Response::new(pb::ListRoomsResponse { rooms }))
    }

    async fn list_members(
        &self,
        request: Request<pb::ListMembersRequest>,
    ) -> Answer<pb::ListMembersResponse> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.requester = caller.username("requester", &r.requester)?;
        let members = self.rooms.members(&r.room, &r.requester).await?;
        let members = members
            .into_iter()
            .map(|m| pb::Member {
                user: m.user,
                role: role_to_pb(m.role),
                joined: Some(millis_to_timestamp(m.joined)),
            })
            .collect();
        Ok(Response::new(pb::ListMembersResponse { members }))
    }

    async fn invite(&self, request: Request<pb::InviteRequest>) -> Answer<pb::InviteResponse> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.by = caller.username("by", &r.by)?;
        let added = self.rooms.invite(&r.room, &r.user, &r.by).await?;
        Ok(Response::new(pb::InviteResponse { added }))
    }

    async fn remove_member(
        &self,
        request: Request<pb::RemoveMemberRequest>,
    ) -> Answer<pb::RemoveMemberResponse> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.by = caller.username("by", &r.by)?;
        let removed = self.rooms.remove(&r.room, &r.user, &r.by, r.ban).await?;
        Ok(Response::new(pb::RemoveMemberResponse { removed }))
    }

    async fn unban(&self, request: Request<pb::UnbanRequest>) -> Answer<pb::UnbanResponse> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.by = caller.username("by", &r.by)?;
        let unbanned = self.rooms.unban(&r.room, &r.user, &r.by).await?;
        Ok(Response::new(pb::UnbanResponse { unbanned }))
    }

    async fn set_role(&self, request: Request<pb::SetRoleRequest>) -> Answer<pb::RoomSummary> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.by = caller.username("by", &r.by)?;
        let room = self
            .rooms
            .set_role(&r.room, &r.user, role_name(r.role), &r.by)
            .await?;
        let role = self.rooms.role_of(&r.room, &r.by).await?;
        Ok(Response::new(summary(room, role)))
    }

    async fn set_topic(&self, request: Request<pb::SetTopicRequest>) -> Answer<pb::RoomSummary> {
        let caller = Caller::of(&request)?;
        let mut r = request.into_inner();
        r.by = caller.username("by", &r.by)?;
        let room = self.rooms.set_topic(&r.room, &r.topic, &r.by).await?;
        let role = self.rooms.role_of(&r.room, &r.by).await?;
        Ok(Response::new(summary(room, role)))
    }
}
