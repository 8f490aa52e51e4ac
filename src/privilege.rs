//! Giving up privilege once set-up is done: the hardware is mapped and the DMA memory allocated
//! (the only steps that need root or capabilities), so the agent then switches to an unprivileged
//! user (`run_as`) and clears every capability set, so a bug in the MQTT or config code cannot
//! reach `/dev/mem`.
//!
//! Process credentials, not hardware: this is the crate's other `unsafe` module (libc calls,
//! each with a `// SAFETY:` line), kept apart from `hw` so `hw` stays about registers and memory.
//!
//! Capability sets belong to threads: [`drop_privileges`] must run before the agent starts its
//! own threads. A user switch reaches every thread (glibc applies `setresuid` to all, and the
//! kernel clears the capabilities of a thread whose ids all become non-zero); the capability
//! sets cleared here are only the calling thread's, which [`privileged_threads`] checks.

use std::ffi::{CStr, CString};

/// Why privilege could not be given up (the agent then refuses to run).
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// `run_as` names no user of this system.
    #[error("run_as: no user `{0}` on this system (see /etc/passwd, or create it with useradd --system)")]
    NoSuchUser(String),
    /// `run_as` is set, but the agent is not root, so it cannot switch users.
    #[error("run_as = `{user}`: switching users needs root, and the agent runs as uid {uid} (drop run_as, or start it as root)")]
    NotRoot {
        /// The configured user.
        user: String,
        /// The uid the agent runs as.
        uid: u32,
    },
    /// A system call failed.
    #[error("{call}: {source}")]
    Os {
        /// What was being done.
        call: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A user to run as, from the password database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

/// What [`drop_privileges`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The user switched to, if any.
    pub user: Option<Account>,
    /// Whether the bounding set could be emptied too (needs CAP_SETPCAP, which a service
    /// started unprivileged by systemd does not hold; its unit's CapabilityBoundingSet then
    /// bounds it).
    pub bounding_cleared: bool,
}

fn os(call: &'static str) -> PrivilegeError {
    PrivilegeError::Os {
        call,
        source: std::io::Error::last_os_error(),
    }
}

/// Looks `name` up in the password database (`getpwnam_r`).
pub fn lookup(name: &str) -> Result<Account, PrivilegeError> {
    let c_name = CString::new(name).map_err(|_| PrivilegeError::NoSuchUser(name.to_owned()))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: `passwd` is plain old data; getpwnam_r fills it in.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call: the name is NUL-terminated, `buf` is
    // writable for `buf.len()` bytes, and `pwd`/`result` are live locals.
    let rc = unsafe {
        libc::getpwnam_r(
            c_name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(PrivilegeError::Os {
            call: "getpwnam_r",
            source: std::io::Error::from_raw_os_error(rc),
        });
    }
    if result.is_null() {
        return Err(PrivilegeError::NoSuchUser(name.to_owned()));
    }
    Ok(Account {
        name: name.to_owned(),
        uid: pwd.pw_uid,
        gid: pwd.pw_gid,
    })
}

/// Switches to `run_as` (if given) and clears every capability: ambient, bounding (where
/// allowed), inheritable, permitted and effective; sets `no_new_privs` so nothing exec'd later
/// can gain any back.
pub fn drop_privileges(run_as: Option<&str>) -> Result<Dropped, PrivilegeError> {
    let user = run_as.map(lookup).transpose()?;
    // SAFETY: getuid cannot fail and touches no memory.
    let uid = unsafe { libc::getuid() };
    if let (Some(a), true) = (&user, uid != 0) {
        return Err(PrivilegeError::NotRoot {
            user: a.name.clone(),
            uid,
        });
    }
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(os("prctl(PR_SET_NO_NEW_PRIVS)"));
    }
    let bounding_cleared = clear_bounding_set();
    // SAFETY: prctl with integer arguments only.
    if unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    } != 0
    {
        return Err(os("prctl(PR_CAP_AMBIENT_CLEAR_ALL)"));
    }
    if let Some(a) = &user {
        switch_user(a)?;
    }
    clear_capabilities()?;
    Ok(Dropped {
        user,
        bounding_cleared,
    })
}

/// Empties the bounding set; false if not allowed (no CAP_SETPCAP).
fn clear_bounding_set() -> bool {
    for cap in 0..64 {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) } < 0 {
            // Past the kernel's last capability.
            return true;
        }
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } != 0 {
            return false;
        }
    }
    true
}

/// Supplementary groups of `a` (its memberships, e.g. `video` for /dev/vcio), then its gid,
/// then its uid: in that order, as each step needs the privilege the next one gives up.
fn switch_user(a: &Account) -> Result<(), PrivilegeError> {
    let name =
        CString::new(a.name.as_str()).map_err(|_| PrivilegeError::NoSuchUser(a.name.clone()))?;
    // SAFETY: `name` is NUL-terminated and outlives the call.
    if unsafe { libc::initgroups(name.as_ptr(), a.gid) } != 0 {
        return Err(os("initgroups"));
    }
    // SAFETY: integer arguments only; glibc applies it to every thread.
    if unsafe { libc::setresgid(a.gid, a.gid, a.gid) } != 0 {
        return Err(os("setresgid"));
    }
    // SAFETY: integer arguments only; glibc applies it to every thread.
    if unsafe { libc::setresuid(a.uid, a.uid, a.uid) } != 0 {
        return Err(os("setresuid"));
    }
    Ok(())
}

/// `struct __user_cap_header_struct` of capset(2).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct` of capset(2) (two of them for 64 capabilities).
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit capability sets.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Empties this thread's effective, permitted and inheritable sets.
fn clear_capabilities() -> Result<(), PrivilegeError> {
    let header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset reads one header and two data structs, laid out as the kernel's
    // (`repr(C)`, version 3), both live for the call.
    if unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } != 0 {
        return Err(os("capset"));
    }
    Ok(())
}

/// Threads of this process that still hold permitted or effective capabilities (name, tid):
/// threads started before [`drop_privileges`] (the embedded broker's) keep theirs unless a user
/// switch cleared them.
pub fn privileged_threads() -> Vec<(String, u32)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        let field = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_owned())
        };
        let held = ["CapPrm:", "CapEff:"]
            .iter()
            .any(|k| field(k).is_some_and(|v| !v.trim_start_matches('0').is_empty()));
        if held {
            let tid = task.file_name().to_string_lossy().parse().unwrap_or(0);
            out.push((field("Name:").unwrap_or_default(), tid));
        }
    }
    out
}

/// The user id and name the process runs as, for logs.
pub fn current_user() -> (u32, Option<String>) {
    // SAFETY: getuid cannot fail and touches no memory.
    let uid = unsafe { libc::getuid() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: `passwd` is plain old data; getpwuid_r fills it in.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: `buf` is writable for `buf.len()` bytes, `pwd`/`result` are live locals.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return (uid, None);
    }
    // SAFETY: getpwuid_r succeeded, so pw_name points to a NUL-terminated string in `buf`,
    // which is alive here.
    let name = unsafe { CStr::from_ptr(pwd.pw_name) };
    (uid, Some(name.to_string_lossy().into_owned()))
}

#[cfg(test)]
#[path = "privilege_tests.rs"]
mod tests;
