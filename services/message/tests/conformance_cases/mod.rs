//! The cases of the store conformance suite, grouped by concern. Each takes
//! a fresh [`Harness`] and panics on any deviation.

mod edits;
mod health;
mod history;
mod reactions;
mod reads;
mod replies;
mod rooms;
mod search;
mod sends;

use std::sync::Arc;

use chat_common::conformance::{BoxFuture, Case};
use chat_message::model::Message;
use chat_message::service::NewPost;

use crate::Harness;

pub use reads::persists_across_reopen;
pub use search::migrates_an_older_database;

macro_rules! cases {
    ($($module:ident :: $name:ident),* $(,)?) => {
        &[$((
            stringify!($name),
            |h: Arc<Harness>| -> BoxFuture<'static, ()> { Box::pin($module::$name(h)) },
        )),*]
    };
}

pub const CASES: &[Case<Harness>] = cases![
    history::orders_by_timestamp_then_id,
    history::latest_page_is_the_newest_oldest_first,
    history::pages_backwards_with_before,
    history::pages_forwards_with_after,
    history::rejects_bad_cursors_and_limits,
    history::rooms_are_separate,
    sends::stores_trimmed_content_and_fields,
    sends::client_id_dedupes_per_sender,
    sends::racing_posts_with_one_client_id_store_one,
    sends::rejects_invalid_posts,
    sends::reads_after_a_write_see_it,
    edits::author_edits_and_others_cannot,
    edits::deleted_messages_cannot_be_edited,
    edits::soft_delete_keeps_the_message_in_history,
    edits::delete_rules,
    reads::read_position_moves_only_forward,
    reads::concurrent_marks_keep_the_newest,
    reads::mark_read_needs_a_message_in_the_room,
    reads::unread_counts_skip_own_deleted_and_read,
    health::ping_answers,
    rooms::first_join_makes_an_ownerless_public_room,
    rooms::create_room_is_unique_and_makes_the_owner,
    rooms::private_rooms_admit_members_only,
    rooms::invites_follow_the_roles,
    rooms::removal_and_bans,
    rooms::roles_are_the_owners_to_give,
    rooms::topics_by_role_and_length,
    rooms::room_list_has_unread_last_message_and_activity_order,
    rooms::first_direct_message_makes_both_members,
    rooms::racing_joins_make_one_membership,
    replies::replies_carry_the_replied_message,
    replies::the_excerpt_is_the_first_100_code_points,
    replies::the_excerpt_follows_edits_and_deletion,
    replies::replies_must_name_a_message_of_the_same_room,
    reactions::reactions_add_remove_and_are_idempotent,
    reactions::reaction_refusals,
    reactions::at_most_20_distinct_emoji,
    search::every_word_last_as_prefix_ignoring_case_and_accents,
    search::matches_are_code_point_offsets,
    search::only_the_rooms_asked_and_never_deleted,
    search::edits_are_searched_as_they_are_now,
    search::pages_newest_first_with_before,
    search::search_refusals,
];

pub async fn post(h: &Harness, room: &str, sender: &str, content: &str) -> Message {
    h.post(NewPost {
        room: room.into(),
        sender: sender.into(),
        content: content.into(),
        ..NewPost::default()
    })
    .await
    .expect("a valid post is stored")
    .0
}

pub async fn post_many(h: &Harness, room: &str, sender: &str, n: usize) -> Vec<Message> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(post(h, room, sender, &format!("message {i}")).await);
    }
    out
}

pub fn ids(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.id.as_str()).collect()
}
