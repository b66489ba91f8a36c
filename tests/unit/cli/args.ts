/** core/cli/args.ts: parsing argv against a small command table of its own, flag specs, help text. */
import assert from "node:assert/strict";
import {
  type CommandSpec,
  helpText,
  type OptionSpec,
  parseArgv,
  parseFlags,
} from "../../../core/cli/args.ts";
import { usageOf } from "../_usage.ts";

const GLOBALS: OptionSpec[] = [
  { flags: "--json", description: "JSON output" },
  { flags: "-q, --quiet", description: "less output" },
  { flags: "-v, --verbose", description: "more output" },
  { flags: "-C, --directory <dir>", description: "run as if in dir" },
];
const TOOL: CommandSpec = {
  name: "tool",
  description: "A test tool.",
  subcommands: [
    {
      name: "make",
      description: "make a thing",
      args: [{ name: "thing", description: "what", required: true }, { name: "where", description: "place" }],
      options: [
        { flags: "--force", description: "even if" },
        { flags: "--no-cache", description: "skip the cache" },
        { flags: "--tag <tag>", description: "a tag", repeatable: true },
        { flags: "--dry-run", description: "plan only" },
        { flags: "--lang <lang>", description: "language", choices: ["sh", "ts"] },
      ],
    },
    {
      name: "group",
      description: "a group",
      subcommands: [{ name: "one", description: "first" }, { name: "two", description: "second" }],
    },
    {
      name: "shell",
      description: "pick",
      args: [{ name: "shell", description: "s", choices: ["bash", "fish"] }],
    },
  ],
};
const parse = (...argv: string[]) => parseArgv(TOOL, GLOBALS, argv);
const usage = (...argv: string[]) => usageOf(() => parse(...argv));

Deno.test("parseFlags() reads the short flag, the long name and the value name", () => {
  assert.deepEqual(parseFlags("-C, --directory <dir>"), {
    key: "directory",
    short: "C",
    long: "directory",
    value: "dir",
    negated: false,
  });
});

Deno.test("parseFlags() camel-cases a dashed long name into the key", () => {
  assert.equal(parseFlags("--health-port-var <var>").key, "healthPortVar");
});

Deno.test("parseFlags() stores a --no- flag under the name without no-, negated", () => {
  assert.deepEqual(parseFlags("--no-sandbox"), {
    key: "sandbox",
    short: undefined,
    long: "no-sandbox",
    value: undefined,
    negated: true,
  });
});

Deno.test("parseArgv() follows the command path to the subcommand", () => {
  assert.deepEqual(parse("group", "two").path, ["group", "two"]);
});

Deno.test("parseArgv() returns positionals in declared order, undefined for an optional one left out", () => {
  assert.deepEqual(parse("make", "cake").args, ["cake", undefined]);
});

Deno.test("parseArgv() sets a boolean flag to true", () => {
  assert.equal(parse("make", "x", "--force").options.force, true);
});

Deno.test("parseArgv() sets a --no- flag's key to false", () => {
  assert.deepEqual(parse("make", "x", "--no-cache").options, { cache: false });
});

Deno.test("parseArgv() stores a dashed option under its camel-cased key", () => {
  assert.deepEqual(parse("make", "x", "--dry-run").options, { dryRun: true });
});

Deno.test("parseArgv() takes an option's value from the next word", () => {
  assert.deepEqual(parse("make", "x", "--lang", "ts").options, { lang: "ts" });
});

Deno.test("parseArgv() takes an option's value after = in the same word, = signs included", () => {
  assert.deepEqual(parse("make", "x", "--tag=a=b").options, { tag: ["a=b"] });
});

Deno.test("parseArgv() collects a repeatable option into an array in order", () => {
  assert.deepEqual(parse("make", "x", "--tag", "b", "--tag=a").options, { tag: ["b", "a"] });
});

Deno.test("parseArgv() accepts a global option before the command", () => {
  const parsed = parse("--json", "make", "x");
  assert.deepEqual([parsed.path, parsed.options], [["make"], { json: true }]);
});

Deno.test("parseArgv() accepts a global short option with its value after the command", () => {
  assert.deepEqual(parse("make", "x", "-C", "/p").options, { directory: "/p" });
});

Deno.test("parseArgv() expands a group of short flags -qv into -q -v", () => {
  assert.deepEqual(parse("-qv", "make", "x").options, { quiet: true, verbose: true });
});

Deno.test("parseArgv() refuses a short-flag group holding a flag that takes a value", () => {
  assert.match(usage("make", "x", "-qC"), /^Unknown option "-qC"/);
});

Deno.test("parseArgv() treats everything after -- as arguments", () => {
  assert.deepEqual(parse("make", "--", "--force").args, ["--force", undefined]);
});

Deno.test("parseArgv() treats a lone - as an argument", () => {
  assert.deepEqual(parse("make", "-").args, ["-", undefined]);
});

Deno.test("parseArgv() marks -h and --help, and then asks for no required argument", () => {
  assert.equal(parse("make", "-h").help, true);
  assert.equal(parse("group", "--help").help, true);
});

Deno.test("parseArgv() suggests the nearest command for an unknown one", () => {
  assert.equal(
    usage("mkae"),
    'Unknown command "mkae". Did you mean "make"? | Run `kinfra --help` for the list.',
  );
});

Deno.test("parseArgv() names an unknown command without a guess when nothing is near", () => {
  assert.equal(usage("zzzzzz"), 'Unknown command "zzzzzz". | Run `kinfra --help` for the list.');
});

Deno.test("parseArgv() names the group and suggests its subcommand for an unknown subcommand", () => {
  assert.equal(
    usage("group", "tow"),
    'Unknown command "group tow". Did you mean "group two"? | Run `kinfra group --help` for the list.',
  );
});

Deno.test("parseArgv() suggests the nearest option for an unknown one, naming the command", () => {
  assert.equal(
    usage("make", "x", "--forse"),
    'Unknown option "--forse" for "kinfra make". Did you mean "--force"? | Run `kinfra make --help` to see the options.',
  );
});

Deno.test("parseArgv() refuses another command's option", () => {
  assert.match(usage("group", "one", "--force"), /^Unknown option "--force" for "kinfra group one"\./);
});

Deno.test("parseArgv() refuses an option missing its value, or given an empty one, naming the value", () => {
  assert.equal(usage("make", "x", "--lang"), "Option --lang needs a value <lang>. | ");
  assert.equal(usage("make", "x", "--lang="), "Option --lang needs a value <lang>. | ");
  assert.equal(usage("make", "x", "--lang", ""), "Option --lang needs a value <lang>. | ");
});

Deno.test("parseArgv() refuses a value given to a flag that takes none", () => {
  assert.equal(usage("make", "x", "--force=yes"), "Option --force takes no value. | ");
});

Deno.test("parseArgv() refuses an option value outside its choices, listing them", () => {
  assert.equal(usage("make", "x", "--lang=rust"), '--lang must be one of sh, ts, not "rust". | ');
});

Deno.test("parseArgv() refuses an argument outside its choices, listing them", () => {
  assert.equal(usage("shell", "tcsh"), '<shell> must be one of bash, fish, not "tcsh". | ');
});

Deno.test("parseArgv() refuses a missing required argument with the command's usage line", () => {
  assert.equal(
    usage("make"),
    'Missing <thing> for "kinfra make". | Usage: kinfra make <thing> [where] [options]',
  );
});

Deno.test("parseArgv() refuses extra arguments, quoting each", () => {
  assert.equal(usage("make", "a", "b", "c", "d"), 'Too many arguments for "kinfra make": "c" "d". | ');
});

Deno.test("parseArgv() refuses one argument more than declared", () => {
  assert.equal(usage("shell", "bash", "fish"), 'Too many arguments for "kinfra shell": "fish". | ');
});

Deno.test("parseArgv() refuses a group given without its subcommand, listing them", () => {
  assert.equal(usage("group"), '"kinfra group" needs a subcommand: one, two. | Run `kinfra group --help`.');
});

Deno.test("parseArgv() with no words at all is the bare program, with nothing to refuse", () => {
  const parsed = parse();
  assert.deepEqual([parsed.path, parsed.args, parsed.command.name], [[], [], "tool"]);
});

Deno.test("helpText() shows the usage line, the arguments and the options of a command", () => {
  const text = helpText(["make"], TOOL.subcommands![0], GLOBALS);
  assert.ok(text.startsWith("Usage: kinfra make <thing> [where] [options]\n\nmake a thing\n"), text);
  assert.match(text, /\nArguments:\n {2}thing {2}what\n {2}where {2}place\n/);
  assert.match(text, /\n {2}--lang <lang> {2}language\n/);
});

Deno.test("helpText() lists a group's subcommands with <command> in the usage line", () => {
  const text = helpText(["group"], TOOL.subcommands![1], GLOBALS);
  assert.match(text, /^Usage: kinfra group <command> \[options\]/);
  assert.match(text, /\nCommands:\n {2}one {2}first\n {2}two {2}second\n/);
});

Deno.test("helpText() of the program ends by pointing at each command's --help", () => {
  assert.match(helpText([], TOOL, GLOBALS), /\nRun `kinfra <command> --help` for a command's options\.$/);
  assert.doesNotMatch(helpText(["make"], TOOL.subcommands![0], GLOBALS), /for a command's options/);
});

Deno.test("helpText() aligns the global options and adds -h, --help", () => {
  const text = helpText(["make"], TOOL.subcommands![0], GLOBALS);
  const globals = text.slice(text.indexOf("Global options:\n") + 16).split("\n");
  assert.deepEqual(globals, [
    "  --json                 JSON output",
    "  -q, --quiet            less output",
    "  -v, --verbose          more output",
    "  -C, --directory <dir>  run as if in dir",
    "  -h, --help             show help",
  ]);
});
