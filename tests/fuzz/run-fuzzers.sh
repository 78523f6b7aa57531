#!/usr/bin/env bash
# Runs every libFuzzer target of a SWITCHBOARD_FUZZ build for a fixed time each, from a fresh
# corpus seeded with the project's fixtures (and ../shared/fixtures when it is next to the repo).
#
#   tests/fuzz/run-fuzzers.sh BUILD_DIR [SECONDS]
#
# SECONDS (default 20) is per fuzzer. Exits 0 when no fuzzer found anything, 1 when one crashed,
# hit an invariant, timed out on an input, ran out of memory or had a sanitizer report (each is
# named, with its log tail and the input in base64), 2 on bad usage. Crashing inputs are kept under
# BUILD_DIR/tests/fuzz/artifacts/<fuzzer>/; reproduce one with `BUILD_DIR/tests/fuzz/<fuzzer> FILE`.
set -u

usage() {
    echo "usage: $0 BUILD_DIR [SECONDS]" >&2
    echo "  BUILD_DIR: a build configured with -DSWITCHBOARD_FUZZ=ON and clang (see tests/fuzz/README.md)" >&2
    exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
build_dir=$1
seconds=${2:-20}
case $seconds in '' | *[!0-9]* | 0) echo "SECONDS must be a positive whole number, got '$seconds'" >&2; usage ;; esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared="$repo/../shared/fixtures"
fuzz_bin="$build_dir/tests/fuzz"
fuzzers="fuzz_meta_webhook fuzz_config fuzz_templates fuzz_catalog fuzz_json_command fuzz_text fuzz_form fuzz_telegram_update fuzz_whatsapp_webhook fuzz_twilio_webhook fuzz_tiktok_webhook fuzz_ai_answer"

for f in $fuzzers; do
    if [ ! -x "$fuzz_bin/$f" ]; then
        echo "$fuzz_bin/$f is missing: build it with 'cmake --build $build_dir --target switchboard_fuzzers'" >&2
        exit 2
    fi
done

# UBSan only prints by default; halting turns undefined behaviour into a finding libFuzzer saves.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}

work=$(mktemp -d "${TMPDIR:-/tmp}/sb-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Scratch files of the targets (fuzz_config's YAML file) go there too, even after a crash.
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"

# copy_seeds DIR FILE... — copies the files that exist (globs that matched nothing are skipped).
copy_seeds() {
    local dir=$1
    shift
    for file in "$@"; do
        [ -f "$file" ] && cp "$file" "$dir/$(echo "$file" | tr '/' '_')"
    done
    return 0
}

seed_meta_webhook() {
    copy_seeds "$1" "$repo"/tests/fixtures/meta/* "$repo"/tests/fixtures/integration/*/*.json
    if [ -d "$shared" ]; then
        copy_seeds "$1" "$shared"/messenger/*.json "$shared"/instagram/*.json
    fi
    # Handshake queries and signature headers, which the target also reads the input as.
    printf '%s' 'hub.mode=subscribe&hub.verify_token=fuzz-verify-token&hub.challenge=1158201444' >"$1/query"
    printf '%s' 'sha256=0000000000000000000000000000000000000000000000000000000000000000' >"$1/signature"
}

seed_config() {
    copy_seeds "$1" "$repo"/etc/switchboard.yaml
    printf '%s\n' 'tenants:' '  demo:' '    plugins:' '      templates: {locale: mn}' \
        '    routes:' '      - on: message.received' '        run: [templates.reply]' >"$1/minimal.yaml"
    printf '%s' '${SWITCHBOARD_FUZZ_UNSET:-10s}' >"$1/env-default"
    printf '%s\n' 'delivery:' '  lease: 1h' '  backoff_max: 5m' '  echo_grace: 15000' 'tenants: {}' >"$1/durations.yaml"
}

seed_catalog() {
    copy_seeds "$1" "$repo"/tests/fixtures/catalog/*
    printf '%s\n%s\n' 'name,price,stock' '"Quoted, name",10,' >"$1/quoted"
}

seed_templates() {
    copy_seeds "$1" "$repo"/share/templates/*.json
    printf '%s' 'Hi! Where is my order #1234?' >"$1/en-order"
    printf '%s' 'Сайн байна уу, захиалгаа хаана байна вэ?' >"$1/mn-order"
    printf '%s' 'хүнтэй ярихыг хүсч байна' >"$1/mn-handoff"
    printf '%s' 'Hi {contact_name}! Welcome to {business_name} {order_id}' >"$1/template"
    printf '%s' '{"type":"message.received","channel":"messenger","contact":{"provider_id":"1","name":"Ann"},"provider_message_id":"m_1","conversation":{"id":1,"escalated":false},"postback":{"payload":"ORDER_STATUS","title":"Order"}}' >"$1/event"
}

seed_text() {
    seed_meta_webhook "$1"
}

seed_telegram_update() {
    if [ -d "$shared" ]; then
        copy_seeds "$1" "$shared"/telegram/*.json
    fi
    printf '%s' '{"update_id":1,"message":{"message_id":2,"chat":{"id":3,"type":"private"},"date":4,"text":"hi"}}' >"$1/text"
}

seed_whatsapp_webhook() {
    if [ -d "$shared" ]; then
        copy_seeds "$1" "$shared"/whatsapp_cloud/*.json "$shared"/360dialog/*.json
    fi
    printf '%s' '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1065"},"messages":[{"from":"976","id":"wamid.A","timestamp":"1700000000","type":"text","text":{"body":"hi"}}],"statuses":[{"id":"wamid.B","status":"read","recipient_id":"976"}]}}]}]}' >"$1/cloud"
    printf '%s' '{"messages":[{"from":"976","id":"41","timestamp":"1454119029","type":"image","image":{"id":"m1","caption":"c"}}]}' >"$1/onprem"
}

seed_twilio_webhook() {
    if [ -d "$shared" ]; then
        copy_seeds "$1" "$shared"/twilio/*.form
    fi
    printf '%s' 'MessageSid=SM1&From=whatsapp%3A%2B976&To=whatsapp%3A%2B1&Body=hi&NumMedia=1&MediaUrl0=https%3A%2F%2Fm&MediaContentType0=image%2Fpng' >"$1/inbound"
    printf '%s' 'MessageSid=SM1&MessageStatus=undelivered&ErrorCode=21610&To=%2B1' >"$1/status"
    printf '%s' '{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}' >"$1/error"
}

seed_tiktok_webhook() {
    if [ -d "$shared" ]; then
        copy_seeds "$1" "$shared"/tiktok/*.json
    fi
    printf '%s' '{"client_key":"ck","event":"im_receive_msg","create_time":1,"user_openid":"biz","content":"{\"type\":\"text\",\"message_id\":\"m1\",\"timestamp\":1700000000000,\"conversation_id\":\"c1\",\"text\":{\"body\":\"hi\"},\"from_user\":{\"id\":\"u1\"},\"to_user\":{\"id\":\"biz\"}}"}' >"$1/dm"
    printf '%s' '{"client_key":"ck","event":"im_mark_read_msg","user_openid":"biz","content":"{\"conversation_id\":\"c1\",\"read\":{\"last_read_timestamp\":1700000000000},\"from_user\":{\"id\":\"u1\"}}"}' >"$1/read"
    printf '%s' '{"code":0,"message":"OK","data":{"message":{"message_id":"m2"}}}' >"$1/answer"
}

seed_ai_answer() {
    printf '%s' '{"id":"chatcmpl-1","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}' >"$1/openai"
    printf '%s' '{"id":"msg_1","type":"message","content":[{"type":"text","text":"Hi"}],"usage":{"input_tokens":3,"output_tokens":1}}' >"$1/anthropic"
    printf '%s' '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' >"$1/overloaded"
    printf '%s' '[{"direction":"out","text":"a"},{"direction":"in","text":"b"},{"direction":"in","text":"c"}]' >"$1/history"
    printf '%s' '{"signals":["interested","urgent"],"sentiment":"positive","topic":"winter boots"}' >"$1/score"
    printf '%s\n%s\n%s' '```json' '{"signals":[],"sentiment":"neutral"}' '```' >"$1/score-fenced"
}

seed_form() {
    if [ -d "$shared" ]; then
        copy_seeds "$1" "$shared"/twilio/*.form "$shared"/bitrix24/*.form
    fi
    printf '%s' 'event=ONCRMLEADADD&data%5BFIELDS%5D%5BID%5D=42&auth%5Bdomain%5D=x.bitrix24.com&tags[]=a&tags[]=b' >"$1/bitrix"
    printf '%s' 'Body=Hi+there&From=%2B14158675309&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm' >"$1/twilio"
    printf '%s' 'Zm9vYmFy' >"$1/base64"
}

seed_json_command() {
    copy_seeds "$1" "$repo"/tests/fixtures/meta/graph-*.json
    printf '%s' '{"type":"message.send","channel":"messenger","recipient":{"provider_id":"1000001"},"text":"hello","job_id":"1","last_inbound_ms":1699999999000}' >"$1/command"
}

failed=""
passed=0
for f in $fuzzers; do
    corpus="$work/$f/corpus"
    artifacts="$build_dir/tests/fuzz/artifacts/$f"
    log="$work/$f/log"
    mkdir -p "$corpus"
    rm -rf "$artifacts"
    mkdir -p "$artifacts"
    "seed_${f#fuzz_}" "$corpus"
    dict="$here/${f#fuzz_}.dict"
    dict_arg=()
    [ -f "$dict" ] && dict_arg=("-dict=$dict")

    echo "== $f: ${seconds}s from $(ls "$corpus" | wc -l) seed(s)"
    "$fuzz_bin/$f" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dict_arg[@]}" "$corpus" >"$log" 2>&1
    rc=$?
    # With UBSAN_OPTIONS=halt_on_error=0 a run goes on after undefined behaviour and exits 0: the
    # report in the log is a finding all the same.
    reports=$(grep -E 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$log" | sort -u)
    if [ $rc -eq 0 ] && [ -n "$reports" ]; then
        rc=1
        echo "!! $f reported problems without stopping:"
        echo "$reports" | sed 's/^/   /'
        grep -E -A12 'runtime error:' "$log" | sed 's/^/   /' | head -n 80
    fi
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done )' "$log" | sed 's/^/   /'
    else
        failed="$failed $f"
        echo "!! $f failed (exit code $rc); log tail:"
        tail -n 60 "$log" | sed 's/^/   /'
        for a in "$artifacts"/*; do
            [ -f "$a" ] || continue
            echo "!! $f input $a (base64):"
            base64 -w 76 "$a" | sed 's/^/   /'
        done
    fi
done

count_failed=$(echo $failed | wc -w)
echo "fuzz: $passed passed, $count_failed failed"
if [ -n "$failed" ]; then
    echo "fuzzers that found a problem:$failed" >&2
    exit 1
fi
exit 0
