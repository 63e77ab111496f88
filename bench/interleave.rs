//! Paired timing: runs the commands given (each one argument, split on spaces; leading
//! `VAR=value` words are set in that command's environment) round-robin,
//! `ROUNDS` rounds (default 1000) after 30 warm-up rounds, and prints each one's median wall
//! time and the median of its per-round difference to the first command. Interleaving keeps a
//! slow spell of the machine from landing on one command only, as back-to-back series do.
//! Built with plain `rustc -O` by bench/paired.sh.
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let cmds: Vec<Vec<String>> = std::env::args()
        .skip(1)
        .map(|c| c.split(' ').map(str::to_owned).collect())
        .collect();
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(1000);
    let mut times = vec![Vec::with_capacity(rounds); cmds.len()];
    for round in 0..rounds + 30 {
        // A different command goes first each round.
        for k in 0..cmds.len() {
            let i = (k + round) % cmds.len();
            let t = Instant::now();
            let (vars, argv) = split_vars(&cmds[i]);
            let status = Command::new(&argv[0])
                .args(&argv[1..])
                .envs(vars.iter().filter_map(|v| v.split_once('=')))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .status()
                .expect("run the command");
            let d = t.elapsed().as_secs_f64() * 1000.0;
            assert!(status.success(), "{:?} failed", cmds[i]);
            if round >= 30 {
                times[i].push(d);
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for i in 0..cmds.len() {
        let mut diffs: Vec<f64> = times[i].iter().zip(&times[0]).map(|(a, b)| a - b).collect();
        let m = median(&mut times[i].clone());
        // File names, not their directories: the floor's and op-aws's paths are temporary.
        let base = |a: &String| a.rsplit('/').next().unwrap_or_default().to_owned();
        let (vars, argv) = split_vars(&cmds[i]);
        // A command in another world is told apart by its binary's directory.
        let from = if vars.is_empty() {
            String::new()
        } else {
            let dir = argv[0].rsplit('/').skip(1).find(|d| *d != "bin").unwrap_or_default();
            format!("[{dir}] ")
        };
        let label: Vec<String> = argv.iter().map(base).collect();
        println!(
            "{:>52}: {m:7.3} ms  {:+7.3} ms over {}",
            format!("{from}{}", label.join(" ")),
            median(&mut diffs),
            base(&cmds[0][0])
        );
    }
}

/// A command's leading `VAR=value` words (set for it alone, as `env` would, without its exec)
/// and the command itself.
fn split_vars(cmd: &[String]) -> (&[String], &[String]) {
    let n = cmd
        .iter()
        .take_while(|w| w.split_once('=').is_some_and(|(k, _)| !k.is_empty() && !k.contains('/')))
        .count();
    cmd.split_at(n)
}
