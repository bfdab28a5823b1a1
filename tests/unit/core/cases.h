/* cases.h -- the cases of unit_core, one group per module of src/core. */
#ifndef RICOCHET_UNIT_CORE_CASES_H
#define RICOCHET_UNIT_CORE_CASES_H

void test_buf_append_consume(void);
void test_buf_growth(void);
void test_buf_compaction(void);
void test_buf_empty_frees(void);

void test_timerq_order(void);
void test_timerq_ties(void);
void test_timerq_stop_middle(void);
void test_timerq_restart_from_callback(void);
void test_timerq_late_start_waits(void);
void test_timerq_random_10k(void);

void test_addr_good(void);
void test_addr_bad(void);
void test_addr_small_buffer(void);

void test_log_levels(void);
void test_log_long_line(void);
void test_log_escape(void);
void test_log_escape_long(void);
void test_log_escape_hexdump(void);
void test_log_repeats_identical(void);
void test_log_repeats_burst(void);
void test_log_repeats_sites(void);
void test_log_repeats_many_sites(void);
void test_log_repeats_threads(void);
void test_log_json_escape(void);
void test_log_json_lines(void);
void test_log_event(void);

void test_loop_timers(void);
void test_loop_timer_no_spin(void);
void test_loop_timer_never_early(void);
/* test_form.c */
void test_form_parse_merge(void);
void test_form_errors(void);
void test_loop_max_wait(void);
void test_loop_io_wakeup(void);
void test_loop_io_interest(void);
void test_loop_hook_first(void);
void test_loop_io_stop_other(void);
void test_loop_advance_to_the_end(void);
void test_loop_next_deadline(void);

void test_frame_raw(void);
void test_frame_line(void);
void test_frame_line_max(void);
void test_frame_delim(void);
void test_frame_delim_max(void);
void test_frame_delim_random(void);
void test_frame_fixed(void);
void test_frame_length(void);
void test_frame_length_bad(void);
void test_frame_length_formats(void);
void test_frame_mode_switch(void);
void test_frame_switch_held(void);
void test_frame_buffer_rest_held(void);
void test_frame_buffer_max(void);
void test_frame_buffer_switch(void);
void test_frame_buffer_switch_held(void);
void test_frame_buffer_any_use(void);

void test_shape_passthrough(void);
void test_shape_rate(void);
void test_shape_rate_no_burst_after_idle(void);
void test_shape_delay(void);
void test_shape_jitter(void);
void test_shape_slice(void);
void test_shape_limit_stall(void);

void test_rng_seeded(void);

/* test_conn_states.c */
void test_conn_open_data(void);
void test_conn_ids(void);
void test_conn_echo_fast_path(void);
void test_conn_echo_after_shutdown(void);
void test_conn_open_peer_fin(void);
void test_conn_open_peer_fin_default(void);
void test_conn_open_peer_reset(void);
void test_conn_open_owner_shutdown(void);
void test_conn_open_owner_close(void);
void test_conn_open_owner_reset(void);
void test_conn_client_done_events(void);
void test_conn_done_shuts_down(void);
void test_conn_feed_nothing(void);
void test_conn_shutting_events(void);
void test_conn_closing_events(void);
void test_conn_half_closed_events(void);
void test_conn_note(void);
void test_conn_names(void);

/* test_conn_summary.c */
void test_conn_first_fin(void);
void test_conn_shaping_summary(void);

/* test_conn_time.c */
void test_conn_idle_timeout(void);
void test_conn_idle_flush(void);
void test_conn_idle_callback(void);
void test_conn_no_idle_timeout(void);
void test_conn_drain_timeout(void);
void test_conn_stop_deadline(void);
void test_conn_stop_unsent_resets(void);
void test_conn_stop_deadline_vs_idle(void);
void test_conn_tick_frees_once(void);
void test_conn_tick_rounds(void);
void test_conn_table_free_stops(void);

/* test_conn_out.c */
void test_conn_transport_refuses(void);
void test_conn_feed_writable(void);
void test_conn_feed_writable_finishes(void);
void test_conn_send_error(void);
void test_conn_drain_write_later(void);
void test_conn_drain_shaped(void);
void test_conn_frame_lines(void);
void test_conn_frame_switch(void);
void test_conn_frame_too_big(void);

/* test_conn_limits.c */
void test_conn_idlest(void);
void test_conn_peer_counts(void);

/* test_conn_tap.c */
void test_conn_tap_graceful(void);
void test_conn_tap_resets(void);
void test_conn_tap_connect(void);

/* test_conn_wire.c */
void test_conn_backpressure(void);
void test_conn_drain_socket(void);
void test_conn_read_max(void);
void test_conn_connect_no_connector(void);
void test_conn_connect_accepted(void);
void test_conn_connect_refused(void);
void test_conn_connect_timeout(void);
void test_conn_connect_shaped(void);

void test_conn_stats_counts(void);
void test_conn_stats_names(void);
void test_http_get(void);
void test_http_post_body(void);
void test_http_pipelined(void);
void test_http_bad_request_line(void);
void test_http_hostile_bytes(void);
void test_http_lengths(void);
void test_http_oversize(void);
void test_http_status_text(void);

#endif
