//! Differential transcript tests: every transcript in `transcripts/` is sent
//! to the reference server and to ours; the normalized replies and whether
//! each connection was closed must be identical.
//!
//! Set `CONFORMANCE_SHOW=<name>` to print the reference's record of a
//! transcript (useful while writing a new one).

use conformance::differential::{check, load, run_on, transcript_names};
use conformance::reference_binary;

fn differential(name: &str) {
    if std::env::var("CONFORMANCE_SHOW").is_ok_and(|show| show == name || show == "all") {
        let transcript = load(name).expect("transcript parses");
        let outcome = run_on(&reference_binary(), &transcript).expect("reference runs");
        eprintln!("reference record of {name}:\n{}", outcome.render());
    }
    if let Err(report) = check(name) {
        panic!("{report}");
    }
}

macro_rules! transcripts {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                differential(stringify!($name));
            }
        )*

        /// Every transcript file must have a test, and every test a file.
        #[test]
        fn every_transcript_file_has_a_test() {
            let listed: Vec<&str> = vec![$(stringify!($name)),*];
            let mut listed_sorted = listed.clone();
            listed_sorted.sort();
            assert_eq!(transcript_names(), listed_sorted);
            assert!(listed.len() >= 40, "only {} transcripts", listed.len());
        }
    };
}

transcripts!(
    auth_ping_before_connect,
    auth_required_info,
    auth_unknown_op_before_connect,
    auth_wrong_password,
    auto_unsubscribe,
    auto_unsubscribe_already_reached,
    bare_newline,
    binary_payload,
    client_sends_err,
    client_sends_err_bare,
    client_sends_hmsg,
    client_sends_info,
    client_sends_info_bad_json,
    client_sends_info_empty,
    client_sends_msg,
    client_sends_ok,
    client_sends_ok_variants,
    connect_account_fields,
    connect_array,
    connect_bad_json,
    connect_client_metadata,
    connect_default_verbose,
    connect_duplicate_keys,
    connect_echo_false,
    connect_headers_false_explicit,
    connect_headers_false_hpub,
    connect_keys_case_insensitive,
    connect_missing_json,
    connect_no_responders_without_headers,
    connect_no_space,
    connect_null,
    connect_protocol_1,
    connect_protocol_2,
    connect_second_adds_no_responders,
    connect_trailing_garbage,
    connect_twice,
    connect_unknown_fields,
    connect_verbose_false,
    connect_verbose_true,
    connect_wrong_type,
    control_line_at_limit,
    control_line_too_long,
    control_line_too_long_unterminated,
    control_line_unterminated_at_limit,
    echo_false_queue,
    empty_line,
    extra_spaces,
    hpub_before_connect,
    hpub_empty_headers,
    hpub_header_size_too_big,
    hpub_headers_not_validated,
    hpub_hmsg,
    hpub_max_payload_exceeded,
    hpub_missing_sizes,
    hpub_status_header,
    hpub_to_no_headers_subscriber,
    hpub_zero_zero,
    invalid_subject_double_dot,
    invalid_subject_gt_middle,
    large_payload_split,
    leading_space_before_op,
    lower_case_ops,
    max_payload_exceeded,
    mixed_case_ops,
    no_responders,
    no_responders_not_requested,
    no_responders_with_responder,
    no_responders_without_reply,
    op_name_alone,
    op_without_separator,
    ops_before_connect,
    payload_too_long,
    payload_too_short,
    pedantic_pub_full_wildcard,
    pedantic_pub_wildcard,
    pedantic_reply_wildcard,
    ping_before_connect,
    ping_pong_many,
    ping_split,
    ping_with_trailing_text,
    pipelined_publishes,
    pong_from_client,
    pub_cr_in_arguments,
    pub_invalid_subject_not_pedantic,
    pub_leading_zeros,
    pub_max_payload_exactly,
    pub_max_payload_exceeded_verbose,
    pub_missing_args,
    pub_negative_size,
    pub_non_numeric_size,
    pub_payload_bare_newline,
    pub_payload_then_garbage,
    pub_sub_basic,
    pub_ten_digit_size,
    pub_too_many_args,
    pub_with_reply,
    pub_zero_payload,
    queue_group_single_member,
    queue_name_with_wildcard,
    sid_non_numeric,
    split_control_line,
    split_every_byte,
    split_payload,
    sub_after_unsub_same_sid,
    sub_control_line_too_long,
    sub_cr_inside_argument,
    sub_duplicate_sid,
    sub_queue_and_sid_too_many_args,
    sub_subject_trailing_dot,
    sub_without_sid,
    tabs_as_separators,
    two_clients_pub_sub,
    two_clients_queue_group,
    two_subscribers_order_across_connections,
    unknown_op,
    sec_accounts_isolated,
    sec_accounts_wrong_password,
    sec_allow_responses,
    sec_bcrypt_hash_as_password,
    sec_bcrypt_right,
    sec_denied_subject_not_delivered,
    sec_missing_credentials,
    sec_other_users_password,
    sec_publish_denied,
    sec_queue_permission,
    sec_service_import_isolation,
    sec_stream_import,
    sec_subscribe_escalation,
    sec_token_as_password,
    sec_token_right,
    sec_token_wrong,
    sec_unknown_user,
    sec_verbose_violation,
    unsub_auto_then_resub,
    unsub_bad_max,
    unsub_basic,
    unsub_max_counts_earlier_deliveries,
    unsub_too_many_args,
    unsub_unknown_sid,
    unsub_zero_max,
    utf8_subject,
    verbose_bad_op_after_ok,
    verbose_hpub,
    verbose_invalid_subject,
    verbose_pedantic_pub_wildcard,
    verbose_unsub_unknown_sid,
    wildcard_full,
    wildcard_inside_token_is_literal,
    wildcard_token,
);
