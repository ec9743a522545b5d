//! CPU time used so far by this process and by PostgreSQL's, from /proc:
//! what a call costs the machine, whoever on it did the work.

/// Clock ticks a second in /proc's figures (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// User and system seconds in a `/proc/{pid}/stat` line, and its command.
fn stat(text: &str) -> Option<(String, f64)> {
    // The command is in parentheses and may hold spaces.
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let command = text[open + 1..close].to_owned();
    let fields: Vec<&str> = text[close + 2..].split(' ').collect();
    // utime and stime are fields 14 and 15, the 12th and 13th after the
    // command and the state.
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some((command, ticks / TICKS))
}

/// Seconds of CPU used by this process and every `postgres` process.
pub fn seconds() -> f64 {
    let own = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|t| stat(&t))
        .map_or(0.0, |(_, s)| s);
    let postgres: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|t| stat(&t))
        .filter(|(command, _)| command == "postgres")
        .map(|(_, s)| s)
        .sum();
    own + postgres
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_user_and_system_ticks() {
        let line = "42 (post gres) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(super::stat(line), Some(("post gres".to_owned(), 3.0)));
    }
}
