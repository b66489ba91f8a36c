/**
 * The unit tests of kinfra's pure modules, one file per module under tests/unit/<layer>/ (named after
 * the module, without `_test`), loaded here into one test file: `deno test` gives every test file its
 * own worker — about 65 ms of CPU each, and much more wall time on a busy machine — which two dozen
 * small files turned into most of the run. Run one module's tests alone with e.g.
 * `deno test -A tests/unit/slots/stale.ts`.
 */
import "./cli/args.ts";
import "./cli/completions.ts";
import "./cli/program.ts";
import "./commands/claude_settings.ts";
import "./commands/init_plan.ts";
import "./commands/small_rules.ts";
import "./compose/port_spec.ts";
import "./compose/scan_cache.ts";
import "./compose/sources.ts";
import "./errors.ts";
import "./hooks/dispatch.ts";
import "./hooks/manifest.ts";
import "./hooks/plugin_files.ts";
import "./hooks/reply.ts";
import "./hooks/trust_store.ts";
import "./io/existing.ts";
import "./io/hash_output.ts";
import "./io/http_status.ts";
import "./io/timers.ts";
import "./plugins/agent_deck.ts";
import "./plugins/health.ts";
import "./project/config.ts";
import "./project/find_worktree.ts";
import "./project/git_head.ts";
import "./project/git_branch.ts";
import "./project/git_locate.ts";
import "./project/names.ts";
import "./project/show_compose.ts";
import "./proxy/forward.ts";
import "./proxy/names.ts";
import "./remote/remote.ts";
import "./remote/tcp.ts";
import "./remote/udp.ts";
import "./sandbox/idle_windows.ts";
import "./sandbox/override.ts";
import "./slots/bookkeeping.ts";
import "./slots/ports.ts";
import "./slots/registry.ts";
import "./slots/slot_data.ts";
import "./slots/slots.ts";
import "./slots/stale.ts";
import "./text/text.ts";
import "./text/yaml_emit.ts";
// Files that began as test files of their own (same rule: one worker for the whole tier).
import "./agent_hook.ts";
import "./bug_report.ts";
import "./capacity.ts";
import "./compose.ts";
import "./compose_corpus.ts";
import "./compose_flavour.ts";
import "./doc_refs.ts";
import "./hooks.ts";
import "./hostile_config.ts";
import "./large_compose.ts";
import "./layers.ts";
import "./path.ts";
import "./slot_files.ts";
