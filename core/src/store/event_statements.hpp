// The group-commit writer's prepared statements (private to core/src/store).
#pragma once

#include "sql_store.hpp"

#include <soci/soci.h>

#include <string>

namespace switchboard::core::store_detail {

struct writer_statements {
    // Bound values. SOCI keeps references to these, so they live as long as the statements.
    std::string kind = "route", body_encoding = "utf-8", tenant, plugin, channel, content_type, body, status, note, provider_id, name, account, type,
        payload, direction, mid, text, attachments, extra, lane, key;
    long long now = 0, id = 0, contact_id = 0, conversation_id = 0, webhook_id = 0, ts = 0, sent_at = 0, job_id = 0;
    int count = 0;
    soci::indicator name_ind = soci::i_ok, account_ind = soci::i_ok, text_ind = soci::i_ok,
                    attachments_ind = soci::i_ok, extra_ind = soci::i_ok, sent_ind = soci::i_ok,
                    note_ind = soci::i_ok, job_ind = soci::i_null;

    soci::statement savepoint, release, rollback_to, insert_webhook, update_webhook, select_identity,
        insert_contact, insert_identity, select_conversation, insert_conversation, insert_message,
        touch_conversation, insert_event, insert_route_job;

    explicit writer_statements(soci::session& s)
        : savepoint(s.prepare << "SAVEPOINT item"),
          release(s.prepare << "RELEASE SAVEPOINT item"),
          rollback_to(s.prepare << "ROLLBACK TO SAVEPOINT item"),
          insert_webhook((s.prepare << "INSERT INTO webhook_events (tenant, plugin, received_at_ms, content_type, "
                                       "body, body_encoding, status, events_count) VALUES (:t, :p, :n, :ct, :b, :be, "
                                       "'handled', :ec) "
                                       "RETURNING id",
                          soci::use(tenant), soci::use(plugin), soci::use(now), soci::use(content_type),
                          soci::use(body), soci::use(body_encoding), soci::use(count),
                          soci::into(webhook_id))),
          update_webhook((s.prepare << "UPDATE webhook_events SET status = :s, note = :n WHERE id = :id",
                          soci::use(status), soci::use(note, note_ind), soci::use(webhook_id))),
          select_identity((s.prepare << "SELECT contact_id FROM channel_identities WHERE tenant = :t AND "
                                        "channel = :c AND provider_id = :p",
                           soci::use(tenant), soci::use(channel), soci::use(provider_id), soci::into(contact_id))),
          insert_contact((s.prepare << "INSERT INTO contacts (tenant, display_name, created_at_ms) VALUES "
                                       "(:t, :n, :c) RETURNING id",
                          soci::use(tenant), soci::use(name, name_ind), soci::use(now), soci::into(contact_id))),
          insert_identity((s.prepare << "INSERT INTO channel_identities (tenant, channel, provider_id, contact_id, "
                                        "created_at_ms) VALUES (:t, :c, :p, :ci, :n)",
                           soci::use(tenant), soci::use(channel), soci::use(provider_id), soci::use(contact_id),
                           soci::use(now))),
          select_conversation((s.prepare << "SELECT id FROM conversations WHERE tenant = :t AND channel = :c AND "
                                            "contact_id = :ci",
                               soci::use(tenant), soci::use(channel), soci::use(contact_id),
                               soci::into(conversation_id))),
          insert_conversation((s.prepare << "INSERT INTO conversations (tenant, channel, contact_id, account_id, "
                                            "created_at_ms) VALUES (:t, :c, :ci, :a, :n) RETURNING id",
                               soci::use(tenant), soci::use(channel), soci::use(contact_id),
                               soci::use(account, account_ind), soci::use(now), soci::into(conversation_id))),
          insert_message((s.prepare << "INSERT INTO messages (tenant, channel, conversation_id, direction, "
                                       "provider_message_id, text, attachments, payload, status, "
                                       "provider_timestamp_ms, sent_at_ms, job_id, created_at_ms) VALUES "
                                       "(:t, :c, :cv, :d, :m, :tx, :a, :p, :s, :ts, :sa, :j, :n) "
                                       "ON CONFLICT (tenant, channel, provider_message_id) DO NOTHING RETURNING id",
                          soci::use(tenant), soci::use(channel), soci::use(conversation_id), soci::use(direction),
                          soci::use(mid), soci::use(text, text_ind), soci::use(attachments, attachments_ind),
                          soci::use(extra, extra_ind), soci::use(status), soci::use(ts),
                          soci::use(sent_at, sent_ind), soci::use(job_id, job_ind), soci::use(now),
                          soci::into(id))),
          touch_conversation((s.prepare << "UPDATE conversations SET last_inbound_at_ms = :ts WHERE id = :id AND "
                                           "(last_inbound_at_ms IS NULL OR last_inbound_at_ms < :ts2)",
                              soci::use(ts), soci::use(conversation_id), soci::use(ts))),
          insert_event((s.prepare << "INSERT INTO events (tenant, channel, type, webhook_event_id, payload, "
                                     "created_at_ms) VALUES (:t, :c, :ty, :w, :p, :n) RETURNING id",
                        soci::use(tenant), soci::use(channel), soci::use(type), soci::use(webhook_id),
                        soci::use(payload), soci::use(now), soci::into(id))),
          insert_route_job((s.prepare << insert_job_sql, soci::use(tenant), soci::use(kind), soci::use(lane),
                            soci::use(key), soci::use(payload), soci::use(now), soci::use(now), soci::use(now),
                            soci::use(lane))) {}

    /// Executes a statement; @returns whether it produced a row (for SELECT / RETURNING). Reads
    /// the result to its end so SQLite resets the statement (an active one blocks RELEASE).
    static bool run(soci::statement& st) {
        bool got = st.execute(true);
        if (got)
            while (st.fetch()) {
            }
        return got;
    }
};
}  // namespace switchboard::core::store_detail
