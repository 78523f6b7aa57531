// switchboard/meta/profile.hpp — what differs between the Meta channels built on this library.
#pragma once

#include <string_view>

namespace switchboard::meta {

/// The per-channel constants of a Meta channel plugin. Messenger and Instagram Messaging share
/// the webhook envelope, the signature scheme and the Send API; they differ in these values.
struct channel_profile {
    /// Plugin name: the "channel" of every event, the second segment of /webhooks/<plugin>/<tenant>.
    std::string_view channel;
    /// Value of the webhook body's top-level `object` field ("page" for Messenger, "instagram").
    std::string_view object;
    /// Name of the setting holding the provider account id this tenant owns.
    std::string_view account_setting;
    /// What that id is, for admins ("Facebook Page id", "Instagram professional account id").
    std::string_view account_label;
    /// Whether the Send API message object accepts "metadata" (Messenger does, echoing it back in
    /// message_echoes; Instagram Messaging does not document it).
    bool send_metadata;
    /// Whether the Send API has the button template (Messenger does; Instagram Messaging answers
    /// choices with quick replies) and the Page feed's comments arrive as `feed` changes.
    bool pages_features;
};

/// Facebook Messenger (Messenger Platform, webhook object "page").
inline constexpr channel_profile messenger_profile{
    "messenger", "page", "page_id", "Facebook Page id", true, true,
};

/// Instagram Messaging (Messenger API for Instagram, webhook object "instagram").
inline constexpr channel_profile instagram_profile{
    "instagram", "instagram", "account_id", "Instagram professional account id", false, false,
};

}  // namespace switchboard::meta
