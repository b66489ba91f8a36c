/**
 * Hostile infra.toml files: each one was accepted, crashed kinfra, or was refused with the wrong
 * words before. Shared by the unit test (the loader) and the end-to-end table (the CLI).
 * [what it is, infra.toml text, what the refusal must say]
 */
const HEAD = `[project]\nname = "hostile"\n`;
const WEB = `${HEAD}[sandbox.ports]\nWEB_PORT = 8080\n`;

export const HOSTILE: [string, string, RegExp][] = [
  [
    "health port_var naming an inherited property (toString)",
    `${WEB}[sandbox.health]\nendpoint = "/"\nport_var = "toString"\n`,
    /sandbox\.health\.port_var = "toString": must be one of the keys of \[sandbox\.ports\] \(WEB_PORT\)/,
  ],
  [
    "health port_var __proto__",
    `${WEB}[sandbox.health]\nendpoint = "/"\nport_var = "__proto__"\n`,
    /sandbox\.health\.port_var = "__proto__"/,
  ],
  [
    "a dotted key 5,000 levels deep in a plugin's table",
    `${HEAD}[plugins.x]\n${Array.from({ length: 5000 }, (_, i) => `k${i}`).join(".")} = 1\n`,
    /tables nest 33\+ levels deep under "plugins\.x\.k0…" \(at most 32\)/,
  ],
  [
    "a table header 5,000 levels deep",
    `${HEAD}[plugins.${Array.from({ length: 5000 }, (_, i) => `k${i}`).join(".")}]\n`,
    /tables nest 33\+ levels deep/,
  ],
  [
    "nested arrays 5,000 deep",
    `${HEAD}[plugins.x]\na = ${"[".repeat(5000)}${"]".repeat(5000)}\n`,
    /TOML syntax error: document contains excessively nested structures/,
  ],
  [
    "health endpoint with a CR LF (a header injected into the request)",
    `${WEB}[sandbox.health]\nendpoint = "/\\r\\nX-Injected: 1"\nport_var = "WEB_PORT"\n`,
    /sandbox\.health\.endpoint = "\/\\r\\nX-Injected: 1": must be a path starting with '\/', without spaces/,
  ],
  [
    "port variable PATH",
    `${WEB}PATH = 9000\n`,
    /sandbox\.ports\.PATH: PATH is a variable Docker, Compose, kinfra or a program.s runtime/,
  ],
  [
    "port variable LD_PRELOAD (what every program in Compose's process loads)",
    `${WEB}LD_PRELOAD = 9000\n`,
    /sandbox\.ports\.LD_PRELOAD: LD_PRELOAD is a variable/,
  ],
  [
    "otel endpoint_var PATH (the service's own PATH)",
    `${WEB}[sandbox.otel]\nendpoint_var = "PATH"\n`,
    /sandbox\.otel\.endpoint_var = "PATH": is a variable the service's programs read/,
  ],
  [
    "port variable DOCKER_HOST",
    `${WEB}DOCKER_HOST = 9000\n`,
    /sandbox\.ports\.DOCKER_HOST: DOCKER_HOST is a variable/,
  ],
  [
    "port variable COMPOSE_FILE",
    `${WEB}COMPOSE_FILE = 9000\n`,
    /sandbox\.ports\.COMPOSE_FILE: COMPOSE_FILE is a variable/,
  ],
  [
    "a variable named like a range's end (collides after expansion)",
    `${HEAD}[sandbox.ports]\nLS = { base = 4510, width = 50 }\nLS_END = 9000\n`,
    /sandbox\.ports\.LS_END: LS_END is also the end of the range LS/,
  ],
  [
    "two variables with the same base (TCP and UDP of one number)",
    `${HEAD}[sandbox.ports]\nDNS_PORT = 5300\nDNS_PORT_53 = 5300\n`,
    /DNS_PORT and DNS_PORT_53 share port 5301 in slot 1, and move together/,
  ],
  [
    "two ranges of one width less than a width apart",
    `${HEAD}[sandbox.ports]\nA = { base = 9000, width = 10 }\nB = { base = 9005, width = 10 }\n`,
    /A and B share port 9015 in slot 1/,
  ],
  [
    "code mount over the container's root",
    `${WEB}[sandbox.mounts]\ncode = ["src:/"]\n`,
    /sandbox\.mounts\.code\[0\] = "src:\/": the container side must not be the container's root directory/,
  ],
  [
    'compose_file "." (a directory)',
    `${HEAD}[sandbox]\ncompose_file = "."\n`,
    /sandbox\.compose_file = "\.": must name a compose file/,
  ],
  [
    "compose_file ending in a slash",
    `${HEAD}[sandbox]\ncompose_file = "deploy/"\n`,
    /sandbox\.compose_file = "deploy\/": must name a compose file/,
  ],
  [
    "a port of nan",
    `${HEAD}[sandbox.ports]\nWEB_PORT = nan\n`,
    /sandbox\.ports\.WEB_PORT = nan: must be a port/,
  ],
  [
    "a port of -inf",
    `${HEAD}[sandbox.ports]\nWEB_PORT = -inf\n`,
    /sandbox\.ports\.WEB_PORT = -inf: must be a port/,
  ],
  [
    "a port that is a date",
    `${HEAD}[sandbox.ports]\nWEB_PORT = 1979-05-27\n`,
    /sandbox\.ports\.WEB_PORT = 1979-05-27 \(a date\): must be a port/,
  ],
  [
    "a port variable with a Cyrillic О (a homoglyph)",
    `${HEAD}[sandbox.ports]\n"WEB_P\u041ERT" = 8080\n`,
    /sandbox\.ports\."WEB_P\u041ERT" = 8080: port variable names must match.*"\u041E" U\+041E, not ASCII/,
  ],
  [
    "a port variable with a NUL in it",
    `${HEAD}[sandbox.ports]\n"WEB\\u0000PORT" = 8080\n`,
    /sandbox\.ports\."WEB\\u0000PORT" = 8080/,
  ],
  [
    "a project name with a right-to-left override",
    `[project]\nname = "ab\u202Ecd"\n`,
    /project\.name = "ab\\u202ecd": must be 1–40 characters/,
  ],
  [
    "a plugin table that is not a plugin name",
    `${HEAD}[plugins.Bad_Name]\nx = 1\n`,
    /plugins\.Bad_Name = a table: is not a plugin name/,
  ],
  [
    "a port above 2^53",
    `${HEAD}[sandbox.ports]\nWEB_PORT = 9007199254740993\n`,
    /TOML syntax error: integer value cannot be represented losslessly/,
  ],
  [
    "a port of 65536",
    `${HEAD}[sandbox.ports]\nWEB_PORT = 65536\n`,
    /sandbox\.ports\.WEB_PORT = 65536: must be 1–65535/,
  ],
  [
    "a base whose last slot passes 65535",
    `${HEAD}[sandbox.ports]\nWEB_PORT = 65535\n`,
    /sandbox\.ports\.WEB_PORT: base \+ slots\.max \(65535 \+ 20\) exceeds 65535/,
  ],
  [
    "a range of width 1001",
    `${HEAD}[sandbox.ports]\nWEB_PORT = { base = 1000, width = 1001 }\n`,
    /sandbox\.ports\.WEB_PORT\.width = 1001: must be 2–1000/,
  ],
  ["an array where a port is expected", `${HEAD}[sandbox.ports]\nWEB_PORT = [8080]\n`, /WEB_PORT = an array/],
  ["an empty project name", `[project]\nname = ""\n`, /project\.name = "": must be 1–40 characters/],
  [
    "a quoted key and a bare key that are the same",
    `${HEAD}[sandbox.ports]\nWEB_PORT = 8080\n"WEB_PORT" = 8081\n`,
    /:5:1: TOML syntax error: trying to redefine an already defined table or value/,
  ],
  [
    "a dotted key and a table that are the same",
    `${HEAD}[sandbox]\nports.WEB_PORT = 8080\n[sandbox.ports]\nX_PORT = 9000\n`,
    /TOML syntax error: trying to redefine/,
  ],
  [
    "3,000 unknown keys",
    HEAD + Array.from({ length: 3000 }, (_, i) => `u${i} = 1\n`).join(""),
    /unknown key "project\.u0"/,
  ],
];
