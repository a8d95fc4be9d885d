//! The few /proc files the monitor reads, and their parsers: a process's
//! parent (`/proc/PID/stat`), its resident set (`/proc/PID/status`) and its
//! I/O counters (`/proc/PID/io`).

use std::collections::HashMap;
use std::path::Path;

/// I/O counters of `/proc/PID/io`. `read_bytes` and `write_bytes` count
/// storage I/O (pages read from, or dirtied for, a block device; 0 on
/// tmpfs); `rchar` and `wchar` count every byte through read and write
/// calls, cache hits, pipes and terminals included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct IoCounters {
    pub rchar: u64,
    pub wchar: u64,
    pub read_bytes: u64,
    pub write_bytes: u64,
}

impl IoCounters {
    /// What was added between `earlier` and `self` (0 where a counter went down).
    pub(super) fn since(self, earlier: IoCounters) -> IoCounters {
        IoCounters {
            rchar: self.rchar.saturating_sub(earlier.rchar),
            wchar: self.wchar.saturating_sub(earlier.wchar),
            read_bytes: self.read_bytes.saturating_sub(earlier.read_bytes),
            write_bytes: self.write_bytes.saturating_sub(earlier.write_bytes),
        }
    }
}

/// `/proc/PID/io` text; None when a counter is missing.
pub(super) fn parse_io(text: &str) -> Option<IoCounters> {
    let mut fields: HashMap<&str, u64> = HashMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(':')
            && let Ok(v) = v.trim().parse()
        {
            fields.insert(k.trim(), v);
        }
    }
    Some(IoCounters {
        rchar: *fields.get("rchar")?,
        wchar: *fields.get("wchar")?,
        read_bytes: *fields.get("read_bytes")?,
        write_bytes: *fields.get("write_bytes")?,
    })
}

/// The parent pid in `/proc/PID/stat` text. The command name (field 2)
/// is in parentheses and may hold spaces and parentheses itself, so the
/// fields are counted from the last `)`.
pub(super) fn parse_ppid(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // state, then ppid
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The resident set in `/proc/PID/status` text, bytes (`VmRSS`, in kB);
/// None for a process without one (a zombie, a kernel thread).
pub(super) fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let kb: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => Some(kb * 1024),
        Some(_) => None,
    }
}

/// Every process that descends from `root` in a pid → parent map, `root`
/// not included.
pub(super) fn descendants(root: i32, parents: &HashMap<i32, i32>) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for (&pid, &ppid) in parents {
        children.entry(ppid).or_default().push(pid);
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
            // a pid never descends from itself; the guard keeps a torn read finite
            if c != root && !out.contains(&c) {
                out.push(c);
                stack.push(c);
            }
        }
    }
    out
}

/// Reads /proc files and counts the bytes it read: cryocap's own reads
/// land in its `rchar`, which the monitor takes out of the program's.
#[derive(Debug, Default)]
pub(super) struct ProcReader {
    pub bytes_read: u64,
}

impl ProcReader {
    /// A file's text; None when it is gone (the process ended) or unreadable.
    pub(super) fn read(&mut self, path: &Path) -> Option<String> {
        let text = std::fs::read_to_string(path).ok()?;
        self.bytes_read += text.len() as u64;
        Some(text)
    }

    /// pid → parent pid of every process in /proc now.
    pub(super) fn parents(&mut self) -> HashMap<i32, i32> {
        let mut map = HashMap::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return map;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            if let Some(ppid) = self
                .read(&e.path().join("stat"))
                .and_then(|s| parse_ppid(&s))
            {
                map.insert(pid, ppid);
            }
        }
        map
    }

    /// The summed resident set of `pids`, bytes.
    pub(super) fn rss_sum(&mut self, pids: &[i32]) -> u64 {
        pids.iter()
            .filter_map(|p| {
                self.read(Path::new(&format!("/proc/{p}/status")))
                    .and_then(|s| parse_vm_rss(&s))
            })
            .sum()
    }

    /// This process's own I/O counters (its reaped children's included).
    pub(super) fn own_io(&mut self) -> Option<IoCounters> {
        self.read(Path::new("/proc/self/io"))
            .and_then(|t| parse_io(&t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let stat = "4242 (my (odd) prog) S 4100 4242 4100 34816 4242 4194304 95 0 0 0";
        assert_eq!(parse_ppid(stat), Some(4100));
        assert_eq!(parse_ppid("1 (init) S 0 1 1"), Some(0));
        assert_eq!(parse_ppid("garbage"), None);
        assert_eq!(parse_ppid("7 (x)"), None);
    }

    #[test]
    fn vm_rss_is_read_in_kilobytes_and_absent_for_a_zombie() {
        let status = "Name:\tpython3\nState:\tS (sleeping)\nVmPeak:\t  300000 kB\nVmRSS:\t  204812 kB\nThreads:\t1\n";
        assert_eq!(parse_vm_rss(status), Some(204_812 * 1024));
        let zombie = "Name:\tsh\nState:\tZ (zombie)\nThreads:\t1\n";
        assert_eq!(parse_vm_rss(zombie), None);
        assert_eq!(parse_vm_rss("VmRSS:\t12 MB\n"), None);
    }

    #[test]
    fn io_counters_need_all_four_fields() {
        let io = "rchar: 1948\nwchar: 120\nsyscr: 7\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n";
        assert_eq!(
            parse_io(io),
            Some(IoCounters {
                rchar: 1948,
                wchar: 120,
                read_bytes: 4096,
                write_bytes: 8192
            })
        );
        assert_eq!(parse_io("rchar: 1\nwchar: 2\n"), None);
        let later = IoCounters {
            rchar: 2000,
            wchar: 100,
            read_bytes: 4096,
            write_bytes: 9000,
        };
        let d = later.since(parse_io(io).unwrap());
        assert_eq!((d.rchar, d.wchar, d.write_bytes), (52, 0, 808));
    }

    #[test]
    fn descendants_are_found_through_every_generation_and_nothing_else() {
        let parents: HashMap<i32, i32> = [(10, 1), (11, 10), (12, 11), (13, 11), (20, 1), (21, 20)]
            .into_iter()
            .collect();
        let mut d = descendants(10, &parents);
        d.sort();
        assert_eq!(d, [11, 12, 13]);
        assert!(descendants(12, &parents).is_empty());
    }

    #[test]
    fn this_process_is_seen_with_its_parent_and_its_counters() {
        let mut r = ProcReader::default();
        let parents = r.parents();
        let me = std::process::id() as i32;
        assert_eq!(
            parents.get(&me).copied(),
            Some(std::os::unix::process::parent_id() as i32)
        );
        assert!(r.rss_sum(&[me]) > 0);
        assert!(r.own_io().is_some());
        assert!(r.bytes_read > 0);
    }
}
