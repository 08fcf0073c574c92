//! A service's settings from a TOML file (`--config FILE`): every flag of the service can be
//! set there under its long name (`poll-secs = 5`, `attestor = ["http://10.0.0.2:7800"]`,
//! `accept-open = true`). The environment overrides the file: a flag's own variable where
//! `--help` names one, else `TESSERA_<FLAG>` (`TESSERA_POLL_SECS=5`, a list comma-separated, a
//! switch `true` or `false`). The command line overrides both. `--print-config` prints the
//! settings in effect as such a file.

use anyhow::{anyhow, bail, Context, Result};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, Command, Parser};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// `--config` and `--print-config`, flattened into a service's flags.
#[derive(Args, Clone, Debug)]
pub struct ConfigArgs {
    /// A TOML file of settings: any flag by its long name (`poll-secs = 5`, `attestor =
    /// ["http://10.0.0.2:7800"]`, `accept-open = true`). The environment overrides the file (a
    /// flag's own variable, else TESSERA_<FLAG>: TESSERA_POLL_SECS=5); the command line
    /// overrides both.
    #[arg(long, env = "TESSERA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the settings in effect (command line, environment, --config, defaults) as a
    /// config file, and exit.
    #[arg(long)]
    pub print_config: bool,
}

/// The `main` of a service whose flags are `T`: parses them ([`parse`]), prints the settings in
/// effect with `--print-config`, else runs `run`. An error is printed on stderr and ends the
/// process with status 2.
pub fn service_main<T: Parser>(run: impl FnOnce(T) -> Result<()>) {
    let outcome = parse::<T>(std::env::args_os().collect()).and_then(|parsed| match parsed {
        (_, Some(settings)) => {
            println!("{settings}");
            Ok(())
        }
        (flags, None) => run(flags),
    });
    if let Err(error) = outcome {
        eprintln!("error: {error:#}");
        std::process::exit(2);
    }
}

/// Flags that are no settings.
const NOT_SETTINGS: [&str; 4] = ["config", "print-config", "help", "version"];

/// Parses a service's flags `T` (with [`ConfigArgs`] flattened in) from `argv`, taking from
/// its `--config` file each setting that neither the command line nor the environment gives.
/// Returns the flags, and with `--print-config` the settings in effect as TOML. Exits, as
/// clap does, on `--help` and on a malformed command line.
pub fn parse<T: Parser>(argv: Vec<OsString>) -> Result<(T, Option<String>)> {
    let command = T::command();
    // What the command line and the environment give, before the file's settings complete
    // it: lenient, since a required flag may be in the file.
    let given = match command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(argv.clone())
    {
        Ok(given) => given,
        // --help and --version.
        Err(error) => error.exit(),
    };
    let mut argv = argv;
    let (from_environment, set) = environment_settings(&command, &given)?;
    argv.extend(from_environment);
    if let Some(path) = given.get_one::<PathBuf>("config") {
        argv.extend(file_settings(&command, &given, &set, path)?);
    }
    let matches = command.clone().get_matches_from(argv);
    let flags = T::from_arg_matches(&matches).map_err(|error| anyhow!("{error}"))?;
    let print = matches
        .get_flag("print_config")
        .then(|| in_effect(&command, &matches));
    Ok((flags, print))
}

/// The variable that sets the flag `long` when it has none of its own: `TESSERA_POLL_SECS`.
fn variable(long: &str) -> String {
    format!("TESSERA_{}", long.to_uppercase().replace('-', "_"))
}

/// The flags that give the settings of `TESSERA_<FLAG>` variables, for flags without a variable
/// of their own that the command line does not give; and the long names of those flags.
fn environment_settings(
    command: &Command,
    given: &ArgMatches,
) -> Result<(Vec<OsString>, Vec<String>)> {
    let mut flags = Vec::new();
    let mut set = Vec::new();
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long().filter(|long| !NOT_SETTINGS.contains(long)) else {
            continue;
        };
        let from_command_line = matches!(
            given.value_source(arg.get_id().as_str()),
            Some(ValueSource::CommandLine)
        );
        if arg.get_env().is_some() || from_command_line {
            continue;
        }
        let name = variable(long);
        let Some(value) = std::env::var_os(&name) else {
            continue;
        };
        let value = value
            .into_string()
            .map_err(|_| anyhow!("{name} is not UTF-8"))?;
        let value = match arg.get_action() {
            ArgAction::SetTrue => match value.as_str() {
                "true" | "1" => toml::Value::Boolean(true),
                "false" | "0" | "" => toml::Value::Boolean(false),
                other => bail!("{name}={other:?}: `{long}` is true or false"),
            },
            ArgAction::Append => toml::Value::Array(
                value
                    .split(',')
                    .filter(|item| !item.trim().is_empty())
                    .map(|item| toml::Value::String(item.trim().to_string()))
                    .collect(),
            ),
            _ => toml::Value::String(value),
        };
        flags.extend(setting(&name, long, arg.get_action(), value)?);
        set.push(long.to_string());
    }
    Ok((flags, set))
}

/// The flags that give `long` the setting `value`; `place` names where it was set.
fn setting(
    place: &str,
    long: &str,
    action: &ArgAction,
    value: toml::Value,
) -> Result<Vec<OsString>> {
    // `--flag=value`, so that a value beginning with `-` is not taken for a flag.
    let flag = |value: String| OsString::from(format!("--{long}={value}"));
    let text = |value| scalar(long, value).with_context(|| place.to_string());
    Ok(match (action, value) {
        (ArgAction::SetTrue, toml::Value::Boolean(true)) => vec![format!("--{long}").into()],
        (ArgAction::SetTrue, toml::Value::Boolean(false)) => Vec::new(),
        (ArgAction::SetTrue, other) => bail!("{place}: `{long}` is true or false, not {other}"),
        (_, toml::Value::Array(values)) => values
            .into_iter()
            .map(|value| text(value).map(&flag))
            .collect::<Result<_>>()?,
        (_, value) => vec![flag(text(value)?)],
    })
}

/// The flags that give the settings of the file at `path` that `given` (the command line and
/// the flags' own variables) and `set` (`TESSERA_<FLAG>` variables) do not.
fn file_settings(
    command: &Command,
    given: &ArgMatches,
    set: &[String],
    path: &Path,
) -> Result<Vec<OsString>> {
    let where_ = || format!("--config {}", path.display());
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", where_()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not TOML", where_()))?;
    let mut flags: Vec<OsString> = Vec::new();
    for (key, value) in table {
        let arg = command
            .get_arguments()
            .find(|arg| {
                arg.get_long() == Some(key.as_str()) && !NOT_SETTINGS.contains(&key.as_str())
            })
            .ok_or_else(|| {
                anyhow!(
                    "{}: `{key}` is no setting of this service: settings are its flags' long \
                     names (--help lists them)",
                    where_()
                )
            })?;
        let source = given.value_source(arg.get_id().as_str());
        let overridden = matches!(
            source,
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) || set.contains(&key);
        if overridden {
            continue;
        }
        flags.extend(setting(&where_(), &key, arg.get_action(), value)?);
    }
    Ok(flags)
}

/// A setting's value as its flag takes it.
fn scalar(key: &str, value: toml::Value) -> Result<String> {
    Ok(match value {
        toml::Value::String(text) => text,
        toml::Value::Integer(number) => number.to_string(),
        toml::Value::Float(number) => number.to_string(),
        toml::Value::Boolean(flag) => flag.to_string(),
        other => bail!("`{key}` is a string, a number or true/false, not {other}"),
    })
}

/// The settings in `matches`, as a config file: one line per setting, those without a value
/// commented out.
fn in_effect(command: &Command, matches: &ArgMatches) -> String {
    let mut lines = Vec::new();
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long().filter(|long| !NOT_SETTINGS.contains(long)) else {
            continue;
        };
        let id = arg.get_id().as_str();
        let quoted = |value: &std::ffi::OsStr| {
            toml::Value::String(value.to_string_lossy().into_owned()).to_string()
        };
        let line = match (arg.get_action(), matches.get_raw(id)) {
            (ArgAction::SetTrue, _) => format!("{long} = {}", matches.get_flag(id)),
            (ArgAction::Append, Some(values)) => {
                let values: Vec<String> = values.map(quoted).collect();
                format!("{long} = [{}]", values.join(", "))
            }
            (ArgAction::Append, None) => format!("{long} = []"),
            (_, Some(mut values)) => match values.next() {
                Some(value) => format!("{long} = {}", quoted(value)),
                None => format!("# {long} ="),
            },
            (_, None) => format!("# {long} ="),
        };
        lines.push(line);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service's flags, as a test sees them.
    #[derive(Parser, Debug)]
    struct Service {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long, default_value_t = 2)]
        poll_secs: u64,
        #[arg(long, default_value_t = 1)]
        network: u64,
        #[arg(long)]
        accept_open: bool,
        #[arg(long = "attestor")]
        attestors: Vec<String>,
        #[arg(long)]
        specs: Option<PathBuf>,
        /// Required: the file may be what gives it.
        #[arg(long)]
        name: String,
    }

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("service")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn file(name: &str, text: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("tessera-config-{name}-{}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn the_file_sets_what_the_command_line_does_not_and_prints_back() {
        let path = file(
            "sets",
            "name = \"worker\"\npoll-secs = 7\naccept-open = true\nattestor = [\"http://a\", \"http://b\"]\nnetwork = 4\n",
        );
        let config = path.to_str().unwrap();
        let (service, printed) = parse::<Service>(argv(&[
            "--config",
            config,
            "--network",
            "9",
            "--print-config",
        ]))
        .unwrap();
        assert_eq!(service.poll_secs, 7);
        assert!(service.accept_open);
        assert_eq!(service.attestors, ["http://a", "http://b"]);
        // The command line overrides the file.
        assert_eq!(service.network, 9);
        assert_eq!(service.specs, None);
        assert_eq!(service.name, "worker");
        let printed = printed.unwrap();
        assert!(printed.contains("poll-secs = \"7\""), "{printed}");
        assert!(
            printed.contains("attestor = [\"http://a\", \"http://b\"]"),
            "{printed}"
        );
        assert!(printed.contains("# specs ="), "{printed}");
        // What it prints reads back to the same settings.
        let again = file("again", &printed);
        let (reread, _) = parse::<Service>(argv(&["--config", again.to_str().unwrap()])).unwrap();
        assert_eq!((reread.poll_secs, reread.network), (7, 9));
        assert_eq!(reread.attestors, service.attestors);
        let _ = (std::fs::remove_file(path), std::fs::remove_file(again));
    }

    #[test]
    fn an_unknown_setting_or_a_wrong_value_is_refused_by_name() {
        let unknown = file("unknown", "pol-secs = 7\n");
        let error = parse::<Service>(argv(&["--config", unknown.to_str().unwrap()]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("`pol-secs` is no setting"), "{error}");
        let wrong = file("wrong", "accept-open = \"yes\"\n");
        let error = parse::<Service>(argv(&["--config", wrong.to_str().unwrap()]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("`accept-open` is true or false"), "{error}");
        let _ = (std::fs::remove_file(unknown), std::fs::remove_file(wrong));
    }

    /// Flags only the variables test uses, so that no other test reads its variables.
    #[derive(Parser, Debug)]
    struct Probe {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long, default_value_t = 0)]
        probe_units: u64,
        #[arg(long)]
        probe_switch: bool,
        #[arg(long = "probe-peer")]
        probe_peers: Vec<String>,
        #[arg(long)]
        probe_offset: Option<String>,
    }

    #[test]
    fn tessera_variables_override_the_file_and_the_command_line_overrides_them() {
        let path = file(
            "probe",
            "probe-units = 3\nprobe-peer = [\"a\"]\nprobe-offset = \"-5\"\n",
        );
        let config = path.to_str().unwrap();
        std::env::set_var("TESSERA_PROBE_UNITS", "5");
        std::env::set_var("TESSERA_PROBE_SWITCH", "true");
        std::env::set_var("TESSERA_PROBE_PEER", "b, c");
        let (probe, _) = parse::<Probe>(argv(&["--config", config])).unwrap();
        assert_eq!(probe.probe_units, 5);
        assert!(probe.probe_switch);
        assert_eq!(probe.probe_peers, ["b", "c"]);
        // A value that begins with a dash is a value, not a flag.
        assert_eq!(probe.probe_offset.as_deref(), Some("-5"));
        let (probe, _) = parse::<Probe>(argv(&["--config", config, "--probe-units", "9"])).unwrap();
        assert_eq!(probe.probe_units, 9);
        std::env::set_var("TESSERA_PROBE_SWITCH", "perhaps");
        let error = parse::<Probe>(argv(&["--config", config]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("`probe-switch` is true or false"), "{error}");
        for name in [
            "TESSERA_PROBE_UNITS",
            "TESSERA_PROBE_SWITCH",
            "TESSERA_PROBE_PEER",
        ] {
            std::env::remove_var(name);
        }
        let _ = std::fs::remove_file(path);
    }
}
