//! `cryocap qualify` flags.

use std::path::PathBuf;

use clap::Args;

use super::values::{self, BoxSize, CryosparcMb, MasterAddr};
use super::{HistoryArg, JunitArg, OpenMetricsArg, OutputArgs};

#[derive(Debug, Args)]
pub struct QualifyArgs {
    /// Requirement profile: cryosparc-worker, cryosparc-master, preprocessing, or a .toml file.
    #[arg(long, value_name = "NAME|FILE", default_value = "cryosparc-worker")]
    pub profile: String,
    /// Project directory on the shared storage to measure reads from.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Directory on the SSD cache drive to measure reads from (needs --dir).
    #[arg(long, value_name = "DIR", requires = "dir")]
    pub ssd_dir: Option<PathBuf>,
    /// Box sizes for the bottleneck analysis, comma-separated.
    #[arg(
        long = "box",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "256,432"
    )]
    pub boxes: Vec<BoxSize>,
    /// A short run (under a minute) with small scratch data.
    #[arg(long)]
    pub quick: bool,
    /// Repeats of each measurement.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = values::count::<u32>(1, 100))]
    pub repeats: u32,
    /// GPUs the node holds, when no driver can tell.
    #[arg(long, value_name = "N", value_parser = values::count::<u32>(1, 64))]
    pub gpus: Option<u32>,
    /// Also check what a multi-node CryoSPARC install needs: the master's
    /// ports (with --master), the user and its access to --dir and
    /// --ssd-dir, a shared file system, the kernel, driver and visible GPUs.
    #[arg(long)]
    pub deployment: bool,
    /// The CryoSPARC master whose 11 ports BASE..BASE+10 this node must
    /// reach (default base 39000).
    #[arg(long, value_name = "HOST[:BASE]", requires = "deployment")]
    pub master: Option<MasterAddr>,
    /// On the master: the workers (a host list, e.g. gpu[01-04]) it must
    /// reach by SSH without a password; each is tried with
    /// `ssh -o BatchMode=yes HOST true`.
    #[arg(long, value_name = "HOSTS", requires = "deployment")]
    pub workers: Option<String>,
    /// With --deployment: a token file written once into the shared
    /// directory (`fleet submit` does it); its inode and content are
    /// recorded for `fleet report` to compare across nodes.
    #[arg(long, value_name = "FILE", requires = "deployment")]
    pub shared_token: Option<std::path::PathBuf>,
    /// With --workers: the ssh client configuration to use (`ssh -F`).
    #[arg(long, value_name = "FILE", requires = "workers")]
    pub ssh_config: Option<std::path::PathBuf>,
    /// With --deployment: the SSD cache quota (CryoSPARC --ssdquota) the
    /// --ssd-dir drive's free space must hold: MB, or a size such as 250GB.
    #[arg(long, value_name = "MB", requires = "deployment")]
    pub ssd_quota: Option<CryosparcMb>,
    /// With --deployment: the space the cache keeps free (CryoSPARC
    /// --ssdreserve; default 10000 MB): MB, or a size such as 10GB.
    #[arg(long, value_name = "MB", requires = "deployment")]
    pub ssd_reserve: Option<CryosparcMb>,
    #[command(flatten)]
    pub openmetrics: OpenMetricsArg,
    #[command(flatten)]
    pub junit: JunitArg,
    #[command(flatten)]
    pub history: HistoryArg,
    #[command(flatten)]
    pub output: OutputArgs,
}
