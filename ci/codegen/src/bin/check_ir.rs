//! `check-ir`: checks in optimized LLVM IR that a function's shared pointer
//! argument is only ever read through `bytewise`'s kernels.
//!
//! Usage: `check-ir FILE.ll FUNCTION...`
//!
//! For each named function, the first parameter is the pointer to shared
//! memory. The checker follows that SSA value and every pointer derived from
//! it (`getelementptr`, casts, `phi`, `select`, `ptrtoint`/`inttoptr`
//! arithmetic, aggregates) through the function, and reports as a violation:
//!
//! - a plain (non-atomic) `load` or `store` through it;
//! - `llvm.memcpy`/`llvm.memmove` with it as source (or destination), and
//!   `llvm.memset` on it;
//! - passing it to any call other than inline asm, an atomic instruction, or a
//!   function of `bytewise`'s kernel module (`bytewise::imp::*`). Other
//!   `bytewise` functions whose body is in the module (inlined generics and
//!   `#[inline]` functions instantiated here) are followed recursively, with
//!   the parameters that receive the shared pointer tracked in turn;
//! - storing the pointer itself to memory, returning it, or any instruction
//!   the checker does not understand (it fails closed).
//!
//! Each violation that reads shared memory is a *fetch site*; when two fetch
//! sites can read a common byte (a call counts as reading every byte), the
//! report also says "double fetch": the compiler read the same shared byte
//! twice, the time-of-check/time-of-use bug this crate exists to prevent.
//!
//! Exit status: 0 if every function is clean, 1 if any has a violation, 2 on
//! a usage or parse error (including a function that is not in the file), so
//! that a missing function can never pass for a failing negative control.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::process::ExitCode;

/// One function definition: its parameter names and instruction lines.
#[derive(Debug, Clone)]
struct Function {
    params: Vec<String>,
    body: Vec<String>,
}

/// The parts of a module the checker needs.
#[derive(Debug, Default)]
struct Module {
    defined: HashMap<String, Function>,
    /// `@name = ... alias ..., ptr @target`: LLVM merges identical functions
    /// into aliases of one body.
    aliases: HashMap<String, String>,
}

/// A byte range `[start, end)` relative to the shared pointer; `None` when
/// unknown (a call, a variable offset), which overlaps everything.
type Range = Option<(i64, i64)>;

/// A read of shared memory that the checker rejects.
#[derive(Debug, Clone)]
struct Fetch {
    range: Range,
    line: String,
}

/// The result of checking one function (and the callees it was followed
/// into).
#[derive(Debug, Default)]
struct Report {
    violations: Vec<String>,
    fetches: Vec<Fetch>,
    /// Allowed uses, for the log: "inline asm", "atomic load", kernel names.
    allowed: BTreeMap<String, usize>,
    /// Whether the function returns a pointer derived from the shared one.
    returns_shared: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: check-ir FILE.ll FUNCTION...");
        return ExitCode::from(2);
    }
    let text = match std::fs::read_to_string(&args[0]) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("check-ir: cannot read {}: {e}", args[0]);
            return ExitCode::from(2);
        }
    };
    let module = match parse_module(&text) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("check-ir: {}: {e}", args[0]);
            return ExitCode::from(2);
        }
    };
    let mut any_violation = false;
    for name in &args[1..] {
        match check_function(&module, name) {
            Err(e) => {
                eprintln!("check-ir: {name}: {e}");
                return ExitCode::from(2);
            }
            Ok(report) => {
                print!("{}", render(name, &report));
                any_violation |= !report.violations.is_empty();
            }
        }
    }
    if any_violation {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A human-readable report for one function.
fn render(name: &str, report: &Report) -> String {
    let mut out = String::new();
    let allowed: Vec<String> = report
        .allowed
        .iter()
        .map(|(k, n)| format!("{k} x{n}"))
        .collect();
    if report.violations.is_empty() {
        let _ = writeln!(
            out,
            "ok   {name}: shared pointer only reaches: {}",
            allowed.join(", ")
        );
        return out;
    }
    let _ = writeln!(out, "FAIL {name}: {} violation(s)", report.violations.len());
    for v in &report.violations {
        let _ = writeln!(out, "     - {v}");
    }
    if let Some((a, b)) = double_fetch(&report.fetches) {
        let _ = writeln!(
            out,
            "     double fetch: the same shared bytes are read by\n         {}\n     and {}",
            a.line, b.line
        );
    }
    out
}

/// Two fetch sites that may read a common byte, if any.
fn double_fetch(fetches: &[Fetch]) -> Option<(&Fetch, &Fetch)> {
    for (i, a) in fetches.iter().enumerate() {
        for b in &fetches[i + 1..] {
            let overlap = match (a.range, b.range) {
                (Some((s1, e1)), Some((s2, e2))) => s1 < e2 && s2 < e1,
                _ => true,
            };
            if overlap {
                return Some((a, b));
            }
        }
    }
    None
}

// ---------------------------------------------------------------- parsing

/// Removes a `;` comment, ignoring `;` inside string literals.
fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_str = !in_str,
            ';' if !in_str => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The net bracket depth change of `s`, outside string literals.
fn depth_delta(s: &str) -> i32 {
    let mut in_str = false;
    let mut d = 0;
    for c in s.chars() {
        match c {
            '"' => in_str = !in_str,
            '(' | '[' | '{' | '<' if !in_str => d += 1,
            ')' | ']' | '}' | '>' if !in_str => d -= 1,
            _ => {}
        }
    }
    d
}

/// Splits at commas that are not nested in brackets or strings.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut start) = (0i32, false, 0);
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '(' | '[' | '{' | '<' if !in_str => depth += 1,
            ')' | ']' | '}' | '>' if !in_str => depth -= 1,
            ',' if !in_str && depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '$' | '.' | '_' | '-')
}

/// Reads an LLVM identifier (after its sigil) starting at byte `i` of `s`:
/// either a bare name or a quoted one. Returns the name with its sigil and the
/// index after it.
fn read_ident(s: &str, sigil_at: usize) -> Option<(String, usize)> {
    let rest = &s[sigil_at + 1..];
    if let Some(q) = rest.strip_prefix('"') {
        let end = q.find('"')?;
        let tok = &s[sigil_at..sigil_at + 2 + end + 1];
        Some((tok.to_string(), sigil_at + 2 + end + 1))
    } else {
        let len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        Some((
            s[sigil_at..sigil_at + 1 + len].to_string(),
            sigil_at + 1 + len,
        ))
    }
}

/// Every `%value` token in `s`, outside string literals.
fn values(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_str = false;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                in_str = !in_str;
                i += 1;
            }
            b'%' if !in_str => match read_ident(s, i) {
                Some((tok, next)) => {
                    out.push(tok);
                    i = next;
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    out
}

/// The byte index of the parenthesis matching the one at `open`.
fn matching_paren(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut in_str = false;
    for (i, c) in s[open..].char_indices() {
        match c {
            '"' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses the function definitions of a textual LLVM IR module.
fn parse_module(text: &str) -> Result<Module, String> {
    let mut module = Module::default();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with('@') && line.contains(" alias ") {
            let (name, _) = read_ident(line, 0).ok_or_else(|| format!("bad alias `{line}`"))?;
            let at = line.rfind('@').unwrap_or(0);
            if at > 0 {
                let (target, _) =
                    read_ident(line, at).ok_or_else(|| format!("bad alias `{line}`"))?;
                module.aliases.insert(
                    name[1..].trim_matches('"').to_string(),
                    target[1..].trim_matches('"').to_string(),
                );
            }
            continue;
        }
        if !line.starts_with("define ") {
            continue;
        }
        let at = line
            .find('@')
            .ok_or_else(|| format!("no name in `{line}`"))?;
        let (name, after) = read_ident(line, at).ok_or_else(|| format!("bad name in `{line}`"))?;
        if !line[after..].starts_with('(') {
            return Err(format!("no parameter list in `{line}`"));
        }
        let close = matching_paren(line, after).ok_or_else(|| format!("unbalanced `{line}`"))?;
        let inner = &line[after + 1..close];
        let params = if inner.trim().is_empty() {
            Vec::new()
        } else {
            split_top(inner)
                .into_iter()
                .map(|p| values(p).pop().unwrap_or_default())
                .collect()
        };
        let mut body = Vec::new();
        let mut pending = String::new();
        for l in lines.by_ref() {
            if l == "}" {
                break;
            }
            let l = strip_comment(l).trim();
            if l.is_empty() || (pending.is_empty() && l.ends_with(':') && !l.contains(' ')) {
                continue;
            }
            if !pending.is_empty() {
                pending.push(' ');
            }
            pending.push_str(l);
            // Instructions such as `switch` span lines until brackets balance.
            if depth_delta(&pending) <= 0 {
                body.push(std::mem::take(&mut pending));
            }
        }
        module.defined.insert(
            name[1..].trim_matches('"').to_string(),
            Function { params, body },
        );
    }
    Ok(module)
}

/// One instruction, split into its parts.
struct Inst<'a> {
    result: Option<String>,
    opcode: &'a str,
    /// The text after the opcode.
    rest: &'a str,
}

fn parse_inst(line: &str) -> Inst<'_> {
    let (result, tail) = match line.split_once(" = ") {
        Some((r, t)) if r.starts_with('%') && !r.contains(' ') => (Some(r.to_string()), t),
        _ => (None, line),
    };
    let mut tail = tail.trim_start();
    loop {
        let word = tail.split_whitespace().next().unwrap_or("");
        if matches!(word, "tail" | "musttail" | "notail") {
            tail = tail[word.len()..].trim_start();
        } else {
            break;
        }
    }
    let opcode = tail.split_whitespace().next().unwrap_or("");
    Inst {
        result,
        opcode,
        rest: tail[opcode.len()..].trim_start(),
    }
}

/// The size in bytes of a first-class IR type, if it is a simple one.
fn type_size(ty: &str) -> Option<i64> {
    let ty = ty.trim();
    if let Some(bits) = ty.strip_prefix('i') {
        return bits.parse::<i64>().ok().map(|b| (b + 7) / 8);
    }
    match ty {
        "ptr" | "double" | "i64" => return Some(8),
        "float" => return Some(4),
        "half" | "bfloat" => return Some(2),
        "fp128" => return Some(16),
        _ => {}
    }
    let inner = ty.strip_prefix('<')?.strip_suffix('>')?;
    let (n, elem) = inner.split_once(" x ")?;
    Some(n.trim().parse::<i64>().ok()? * type_size(elem)?)
}

// ---------------------------------------------------------------- analysis

/// Whether a (mangled) symbol is a function of `bytewise` whose path starts
/// with `bytewise::` followed by `rest` (each segment spelled `<len><ident>`,
/// e.g. `3imp`).
fn is_bytewise_path(sym: &str, rest: &str) -> bool {
    // Legacy mangling: `_ZN8bytewise3imp...E`. v0 mangling: the crate root is
    // `C[s<disambiguator>_]8bytewise`, then the path segments.
    let needle = format!("8bytewise{rest}");
    if sym.starts_with("_ZN") {
        return sym.starts_with(&format!("_ZN{needle}"));
    }
    sym.starts_with("_R")
        && (sym.contains(&format!("_{needle}")) || sym.contains(&format!("C{needle}")))
}

/// Whether a (mangled) symbol is a function of `bytewise`.
fn is_bytewise(sym: &str) -> bool {
    is_bytewise_path(sym, "")
}

/// Whether a call argument (`i64 noundef %x`) has an integer type.
fn is_int_arg(arg: &str) -> bool {
    arg.trim()
        .strip_prefix('i')
        .and_then(|t| t.split_whitespace().next())
        .is_some_and(|bits| !bits.is_empty() && bits.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a (mangled) symbol is in `bytewise`'s kernel module `imp`.
fn is_bytewise_kernel(sym: &str) -> bool {
    is_bytewise_path(sym, "3imp")
}

/// Follows alias chains to the function that has the body.
fn resolve<'a>(module: &'a Module, mut name: &'a str) -> &'a str {
    for _ in 0..16 {
        match module.aliases.get(name) {
            Some(target) => name = target,
            None => break,
        }
    }
    name
}

fn check_function(module: &Module, name: &str) -> Result<Report, String> {
    let name = resolve(module, name);
    let f = module
        .defined
        .get(name)
        .ok_or("function not found in the IR file")?;
    let first = f.params.first().ok_or("function has no parameters")?;
    let mut report = Report::default();
    let mut visiting = HashSet::new();
    analyze(
        module,
        name,
        &[(first.clone(), Some(0))],
        &mut report,
        &mut visiting,
        0,
    );
    Ok(report)
}

/// Follows the tainted values (with their byte offset from the shared
/// pointer, when known) through `fname`, adding to `report`.
fn analyze(
    module: &Module,
    fname: &str,
    seeds: &[(String, Option<i64>)],
    report: &mut Report,
    visiting: &mut HashSet<String>,
    depth: usize,
) {
    let key = format!("{fname}{seeds:?}");
    if !visiting.insert(key.clone()) || depth > 16 {
        return;
    }
    let f = &module.defined[fname];
    let ctx = if depth == 0 {
        String::new()
    } else {
        format!(" (in {fname})")
    };
    let mut taint: HashMap<String, Option<i64>> = seeds.iter().cloned().collect();
    let defs: HashMap<String, &str> = f
        .body
        .iter()
        .filter_map(|l| parse_inst(l).result.map(|r| (r, l.as_str())))
        .collect();

    // Propagate to a fixpoint first (phi nodes may refer to later values),
    // then judge every use once.
    loop {
        let before = taint.len();
        for line in &f.body {
            let inst = parse_inst(line);
            let Some(res) = &inst.result else { continue };
            if taint.contains_key(res) {
                continue;
            }
            let used: Vec<String> = values(inst.rest)
                .into_iter()
                .filter(|v| taint.contains_key(v))
                .collect();
            if used.is_empty() {
                continue;
            }
            match inst.opcode {
                "getelementptr" => {
                    let fields = split_top(inst.rest);
                    let base = fields.get(1).and_then(|b| values(b).pop());
                    let base_off = base.as_ref().and_then(|b| taint.get(b).copied().flatten());
                    let elem = fields[0].split_whitespace().last().unwrap_or("");
                    let off = match (base_off, elem, fields.len()) {
                        (Some(o), "i8", 3) => fields[2]
                            .strip_prefix("i64 ")
                            .and_then(|c| c.trim().parse::<i64>().ok())
                            .map(|c| o + c),
                        _ => None,
                    };
                    // A tainted index (not base) still derives from the pointer.
                    taint.insert(
                        res.clone(),
                        if base.is_some_and(|b| taint.contains_key(&b)) {
                            off
                        } else {
                            None
                        },
                    );
                }
                "bitcast" | "addrspacecast" | "freeze" => {
                    taint.insert(res.clone(), taint[&used[0]]);
                }
                "phi" | "select" | "ptrtoint" | "inttoptr" | "add" | "sub" | "and" | "or"
                | "xor" | "shl" | "lshr" | "ashr" | "mul" | "trunc" | "zext" | "sext"
                | "extractvalue" | "insertvalue" | "extractelement" | "insertelement"
                | "shufflevector" => {
                    taint.insert(res.clone(), None);
                }
                // `llvm.ptrmask` and friends return the pointer itself. Calls
                // into followed `bytewise` functions are judged below.
                "call" | "invoke"
                    if inst.rest.contains("@llvm.ptrmask")
                        || inst.rest.contains("@llvm.launder.invariant.group") =>
                {
                    taint.insert(res.clone(), None);
                }
                _ => {}
            }
        }
        if taint.len() == before {
            break;
        }
    }

    for line in &f.body {
        let inst = parse_inst(line);
        let used: Vec<String> = values(inst.rest)
            .into_iter()
            .filter(|v| taint.contains_key(v))
            .collect();
        if used.is_empty() {
            continue;
        }
        let loc = format!("`{line}`{ctx}");
        match inst.opcode {
            "load" => {
                let fields = split_top(inst.rest);
                let ptr = fields.get(1).and_then(|p| values(p).into_iter().next());
                if ptr.as_ref().is_some_and(|p| taint.contains_key(p)) {
                    let head = fields[0];
                    if head.starts_with("atomic") {
                        *report.allowed.entry("atomic load".into()).or_default() += 1;
                    } else {
                        let ty = head.trim_start_matches("volatile").trim();
                        let off = taint[ptr.as_ref().unwrap()];
                        let range = off.zip(type_size(ty)).map(|(o, s)| (o, o + s));
                        report
                            .violations
                            .push(format!("plain load from the shared pointer: {loc}"));
                        report.fetches.push(Fetch {
                            range,
                            line: loc.clone(),
                        });
                    }
                }
            }
            "store" => {
                let fields = split_top(inst.rest);
                let val = fields.first().and_then(|v| values(v).pop());
                let ptr = fields.get(1).and_then(|p| values(p).into_iter().next());
                if val.is_some_and(|v| taint.contains_key(&v)) {
                    report.violations.push(format!(
                        "the shared pointer is stored to memory (untracked): {loc}"
                    ));
                }
                if ptr.is_some_and(|p| taint.contains_key(&p)) {
                    if fields[0].starts_with("atomic") {
                        *report.allowed.entry("atomic store".into()).or_default() += 1;
                    } else {
                        report
                            .violations
                            .push(format!("plain store to the shared pointer: {loc}"));
                    }
                }
            }
            "atomicrmw" | "cmpxchg" => {
                let fields = split_top(inst.rest);
                let ptr_is_tainted = values(fields[0]).iter().any(|v| taint.contains_key(v));
                let other_tainted = fields[1..]
                    .iter()
                    .any(|f| values(f).iter().any(|v| taint.contains_key(v)));
                if other_tainted {
                    report.violations.push(format!(
                        "the shared pointer is stored to memory (untracked): {loc}"
                    ));
                } else if ptr_is_tainted {
                    *report
                        .allowed
                        .entry(format!("atomic {}", inst.opcode))
                        .or_default() += 1;
                }
            }
            "call" | "invoke" => {
                judge_call(module, &inst, &taint, &defs, &loc, report, visiting, depth)
            }
            "ret" => {
                if depth == 0 {
                    report
                        .violations
                        .push(format!("the shared pointer is returned: {loc}"));
                } else {
                    report.returns_shared = true;
                }
            }
            "getelementptr" | "bitcast" | "addrspacecast" | "freeze" | "phi" | "select"
            | "ptrtoint" | "inttoptr" | "add" | "sub" | "and" | "or" | "xor" | "shl" | "lshr"
            | "ashr" | "mul" | "trunc" | "zext" | "sext" | "extractvalue" | "insertvalue"
            | "extractelement" | "insertelement" | "shufflevector" => {
                // Derivations: the result is tracked (fixpoint above).
            }
            "icmp" => {
                // Comparing addresses reads no memory.
            }
            other => {
                report.violations.push(format!(
                    "unhandled use of the shared pointer by `{other}`: {loc}"
                ));
            }
        }
    }
    visiting.remove(&key);
}

/// Judges a call or invoke that uses a tainted value.
#[allow(clippy::too_many_arguments)]
fn judge_call(
    module: &Module,
    inst: &Inst<'_>,
    taint: &HashMap<String, Option<i64>>,
    defs: &HashMap<String, &str>,
    loc: &str,
    report: &mut Report,
    visiting: &mut HashSet<String>,
    depth: usize,
) {
    let rest = inst.rest;
    // Inline asm: `call <ty> asm [sideeffect] [...] "template", "constraints"(args)`.
    // It is the kernels' own code (the asm blocks of `bytewise::imp`).
    let before_args = rest.split('"').next().unwrap_or("");
    if before_args.split_whitespace().any(|w| w == "asm") {
        *report.allowed.entry("inline asm".into()).or_default() += 1;
        return;
    }
    // Find the callee: the first `@name(` or `%name(` outside strings.
    let mut callee = None;
    let mut in_str = false;
    for (i, c) in rest.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '@' | '%' if !in_str => {
                if let Some((tok, next)) = read_ident(rest, i)
                    && rest[next..].starts_with('(')
                {
                    callee = Some((tok, next));
                    break;
                }
            }
            _ => {}
        }
    }
    let Some((callee, open)) = callee else {
        report
            .violations
            .push(format!("cannot parse the call: {loc}"));
        return;
    };
    let Some(close) = matching_paren(rest, open) else {
        report
            .violations
            .push(format!("cannot parse the call: {loc}"));
        return;
    };
    let args = split_top(&rest[open + 1..close]);
    let tainted_args: Vec<(usize, Option<i64>, &str)> = args
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            values(a)
                .into_iter()
                .find(|v| taint.contains_key(v))
                .map(|v| (i, taint[&v], *a))
        })
        .collect();
    if taint.contains_key(&callee) {
        report
            .violations
            .push(format!("a call through the shared pointer: {loc}"));
        return;
    }
    let name = resolve(module, callee[1..].trim_matches('"'));
    let bundles_tainted = values(&rest[close + 1..])
        .iter()
        .any(|v| taint.contains_key(v));
    if callee.starts_with('@') && name.starts_with("llvm.") {
        let intrinsic = name;
        if intrinsic.starts_with("llvm.memcpy") || intrinsic.starts_with("llvm.memmove") {
            for (i, off, _) in &tainted_args {
                match i {
                    0 => report
                        .violations
                        .push(format!("plain {intrinsic} into the shared pointer: {loc}")),
                    1 => {
                        let len = args
                            .get(2)
                            .and_then(|l| l.strip_prefix("i64 "))
                            .and_then(|l| l.trim().parse().ok());
                        let range = off.zip(len).map(|(o, n): (i64, i64)| (o, o + n));
                        report.violations.push(format!(
                            "the shared pointer is the source of {intrinsic}: {loc}"
                        ));
                        report.fetches.push(Fetch {
                            range,
                            line: loc.to_string(),
                        });
                    }
                    _ => report
                        .violations
                        .push(format!("unexpected operand of {intrinsic}: {loc}")),
                }
            }
        } else if intrinsic.starts_with("llvm.memset") {
            report
                .violations
                .push(format!("plain {intrinsic} on the shared pointer: {loc}"));
        } else if intrinsic.starts_with("llvm.lifetime.")
            || intrinsic.starts_with("llvm.dbg.")
            || intrinsic == "llvm.assume"
            || intrinsic.starts_with("llvm.prefetch")
            || intrinsic.starts_with("llvm.ptrmask")
            || intrinsic.starts_with("llvm.objectsize")
        {
            // No access to the pointee (or a pure derivation, tracked above).
        } else {
            report.violations.push(format!(
                "the shared pointer reaches intrinsic {intrinsic}: {loc}"
            ));
        }
        return;
    }
    if bundles_tainted {
        report
            .violations
            .push(format!("the shared pointer is in an operand bundle: {loc}"));
    }
    if callee.starts_with('%') {
        // An indirect call: allowed only through a `bytewise` dispatch slot
        // (a function pointer loaded from, or selected among, `bytewise`
        // symbols), which is as opaque to the optimizer as asm.
        let def = defs.get(callee.as_str()).copied().unwrap_or("");
        if def.contains('@') && def.split('@').skip(1).all(is_bytewise) {
            *report
                .allowed
                .entry("indirect call through a bytewise dispatch slot".into())
                .or_default() += 1;
        } else {
            report.violations.push(format!(
                "the shared pointer is passed to an indirect call: {loc}"
            ));
            report.fetches.push(Fetch {
                range: None,
                line: loc.to_string(),
            });
        }
        return;
    }
    if is_bytewise(name) {
        if let Some(callee_fn) = module.defined.get(name) {
            let seeds: Vec<(String, Option<i64>)> = tainted_args
                .iter()
                .filter_map(|(i, off, _)| callee_fn.params.get(*i).map(|p| (p.clone(), *off)))
                .collect();
            let mut sub = Report::default();
            analyze(module, name, &seeds, &mut sub, visiting, depth + 1);
            report.violations.extend(sub.violations);
            report.fetches.extend(sub.fetches);
            for (k, n) in sub.allowed {
                *report.allowed.entry(k).or_default() += n;
            }
            if sub.returns_shared {
                report.violations.push(format!(
                    "a bytewise function returns the shared pointer (untracked): {loc}"
                ));
            }
            return;
        }
        if is_bytewise_kernel(name) {
            *report
                .allowed
                .entry(format!("kernel {}", demangle_short(name)))
                .or_default() += 1;
            return;
        }
        // Only the address, as an integer (`ptrtoint`), reaches a declared
        // `bytewise` function: the fault paths (`raw::fault_panic`,
        // `Error::fault`) take the faulting range by address. An integer
        // carries no provenance, so the callee cannot read the bytes.
        if tainted_args.iter().all(|(_, _, a)| is_int_arg(a)) {
            *report
                .allowed
                .entry("address passed to a bytewise fault path".into())
                .or_default() += 1;
            return;
        }
    }
    report.violations.push(format!(
        "the shared pointer is passed to {}: {loc}",
        demangle_short(name)
    ));
    report.fetches.push(Fetch {
        range: None,
        line: loc.to_string(),
    });
}

/// `_ZN8bytewise3imp7aarch644load17h0123E` -> `bytewise::imp::aarch64::load`
/// (legacy mangling; other names are returned unchanged).
fn demangle_short(sym: &str) -> String {
    let Some(mut s) = sym.strip_prefix("_ZN") else {
        return sym.to_string();
    };
    let mut parts = Vec::new();
    while let Some(digits) = s.find(|c: char| !c.is_ascii_digit()).filter(|&d| d > 0) {
        let Ok(n) = s[..digits].parse::<usize>() else {
            break;
        };
        let Some(part) = s.get(digits..digits + n) else {
            break;
        };
        if !(part.len() == 17 && part.starts_with('h')) {
            parts.push(part);
        }
        s = &s[digits + n..];
    }
    if parts.is_empty() {
        sym.to_string()
    } else {
        parts.join("::")
    }
}

// ---------------------------------------------------------------- tests

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ir: &str, f: &str) -> Report {
        check_function(&parse_module(ir).unwrap(), f).unwrap()
    }

    const HEADER: &str = "declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)\n";

    #[test]
    fn plain_load_through_gep_is_caught() {
        let ir = "define i32 @f(ptr %s) {\nstart:\n  %p = getelementptr inbounds nuw i8, ptr %s, i64 4\n  %v = load i32, ptr %p, align 4\n  ret i32 %v\n}\n";
        let r = check(ir, "f");
        assert_eq!(r.violations.len(), 1, "{r:?}");
        assert!(r.violations[0].contains("plain load"));
        assert_eq!(r.fetches[0].range, Some((4, 8)));
    }

    #[test]
    fn atomic_load_and_asm_are_allowed() {
        let ir = "define i8 @f(ptr %s, ptr %d) {\nstart:\n  %p = getelementptr inbounds i8, ptr %s, i64 %i\n  %v = load atomic i8, ptr %p monotonic, align 1\n  %0 = call { i64, ptr, ptr } asm sideeffect \"ldp q0, q1, [$1]; %weird\", \"=r,r\"(ptr %s) #1\n  ret i8 %v\n}\n";
        let r = check(ir, "f");
        assert!(r.violations.is_empty(), "{r:?}");
        assert_eq!(r.allowed.get("atomic load"), Some(&1));
        assert_eq!(r.allowed.get("inline asm"), Some(&1));
    }

    #[test]
    fn memcpy_from_shared_is_caught_and_double_fetch_reported() {
        let ir = format!(
            "{HEADER}define void @f(ptr %s, ptr %o) {{\nstart:\n  %a = alloca [8 x i8], align 8\n  call void @llvm.memcpy.p0.p0.i64(ptr %a, ptr %s, i64 8, i1 false)\n  %x = load i32, ptr %s, align 4\n  ret void\n}}\n"
        );
        let r = check(&ir, "f");
        assert_eq!(r.violations.len(), 2, "{r:?}");
        assert!(double_fetch(&r.fetches).is_some());
    }

    #[test]
    fn disjoint_loads_are_not_a_double_fetch() {
        let ir = "define void @f(ptr %s) {\nstart:\n  %a = load i32, ptr %s, align 4\n  %p = getelementptr inbounds i8, ptr %s, i64 4\n  %b = load i32, ptr %p, align 4\n  ret void\n}\n";
        let r = check(ir, "f");
        assert_eq!(r.violations.len(), 2);
        assert!(double_fetch(&r.fetches).is_none());
    }

    #[test]
    fn passing_to_a_foreign_function_is_caught() {
        let ir = "define void @f(ptr %s) {\nstart:\n; call consume\n  %0 = tail call noundef i8 @_ZN16bytewise_codegen7consume17h356971a4480816fbE(ptr noalias noundef nonnull readonly align 8 %s, i64 3) #9\n  ret void\n}\n";
        let r = check(ir, "f");
        assert_eq!(r.violations.len(), 1, "{r:?}");
        assert!(
            r.violations[0].contains("bytewise_codegen::consume"),
            "{r:?}"
        );
    }

    #[test]
    fn declared_kernel_is_allowed_but_other_bytewise_declaration_is_not() {
        let ir = "define void @f(ptr %s, ptr %d) {\nstart:\n  call void @_ZN8bytewise3imp7aarch644load17h0123456789abcdefE(ptr %s, ptr %d, i64 8)\n  ret void\n}\ndefine void @g(ptr %s, ptr %d) {\nstart:\n  call void @_ZN8bytewise3raw4load17h0123456789abcdefE(ptr %s, ptr %d, i64 8)\n  ret void\n}\n";
        assert!(check(ir, "f").violations.is_empty());
        assert_eq!(check(ir, "g").violations.len(), 1);
    }

    #[test]
    fn address_to_declared_bytewise_function_is_allowed_pointer_is_not() {
        let ir = "define void @f(ptr %s) {\nstart:\n  %a = ptrtoint ptr %s to i64\n  call void @_ZN8bytewise3raw11fault_panic17h0123456789abcdefE(i64 noundef %a)\n  ret void\n}\ndefine void @g(ptr %s) {\nstart:\n  call void @_ZN8bytewise3raw11fault_panic17h0123456789abcdefE(ptr %s)\n  ret void\n}\n";
        assert!(check(ir, "f").violations.is_empty(), "{:?}", check(ir, "f"));
        assert_eq!(check(ir, "g").violations.len(), 1);
    }

    #[test]
    fn defined_bytewise_functions_are_followed() {
        let ok = "define void @f(ptr %s, ptr %d) {\nstart:\n  call void @_ZN8bytewise3raw4load17h0123456789abcdefE(ptr %d, ptr %s)\n  ret void\n}\ndefine internal void @_ZN8bytewise3raw4load17h0123456789abcdefE(ptr %x, ptr %y) {\nstart:\n  %v = load i8, ptr %x, align 1\n  %w = load atomic i8, ptr %y monotonic, align 1\n  ret void\n}\n";
        let r = check(ok, "f");
        // `%s` arrives as the callee's second parameter `%y`: atomic only.
        assert!(r.violations.is_empty(), "{r:?}");
        let bad = ok.replace("(ptr %d, ptr %s)", "(ptr %s, ptr %d)");
        let r = check(&bad, "f");
        assert_eq!(r.violations.len(), 1, "{r:?}");
        assert!(
            r.violations[0].contains("(in _ZN8bytewise3raw4load"),
            "{r:?}"
        );
    }

    #[test]
    fn phi_select_and_int_roundtrip_are_tracked() {
        let ir = "define void @f(ptr %s, i1 %c) {\nstart:\n  br label %bb2\nbb2:\n  %q = phi ptr [ %s, %start ], [ %r, %bb2 ]\n  %i = ptrtoint ptr %q to i64\n  %j = add i64 %i, 1\n  %r = inttoptr i64 %j to ptr\n  %t = select i1 %c, ptr %r, ptr null\n  %v = load i8, ptr %t, align 1\n  br label %bb2\n}\n";
        let r = check(ir, "f");
        assert_eq!(r.violations.len(), 1, "{r:?}");
    }

    #[test]
    fn storing_or_returning_the_pointer_is_caught() {
        let ir = "define ptr @f(ptr %s, ptr %o) {\nstart:\n  store ptr %s, ptr %o, align 8\n  ret ptr %s\n}\n";
        assert_eq!(check(ir, "f").violations.len(), 2);
    }

    #[test]
    fn unknown_instruction_fails_closed() {
        let ir = "define void @f(ptr %s) {\nstart:\n  %v = va_arg ptr %s, i32\n  ret void\n}\n";
        assert_eq!(check(ir, "f").violations.len(), 1);
    }

    #[test]
    fn aliases_are_followed() {
        let ir = "@g = unnamed_addr alias i32 (ptr), ptr @f\ndefine i32 @f(ptr %s) {\nstart:\n  %v = load i32, ptr %s, align 4\n  ret i32 %v\n}\n";
        assert_eq!(check(ir, "g").violations.len(), 1);
    }

    #[test]
    fn missing_function_is_an_error() {
        assert!(check_function(&parse_module("").unwrap(), "nope").is_err());
    }

    #[test]
    fn recognizes_bytewise_symbols_only() {
        assert!(is_bytewise_kernel(
            "_ZN8bytewise3imp7aarch644load17h0123456789abcdefE"
        ));
        assert!(is_bytewise_kernel(
            "_RNvNtNtCs1234_8bytewise3imp7aarch644load"
        ));
        assert!(is_bytewise("_ZN8bytewise3raw4load17h0123456789abcdefE"));
        assert!(!is_bytewise_kernel(
            "_ZN8bytewise3raw4load17h0123456789abcdefE"
        ));
        // A crate whose name merely ends in a digit and `bytewise...`.
        assert!(!is_bytewise(
            "_ZN18bytewise_something3imp4load17h0123456789abcdefE"
        ));
        assert!(!is_bytewise(
            "_ZN16bytewise_codegen7consume17h0123456789abcdefE"
        ));
        assert!(!is_bytewise("memcpy"));
    }

    #[test]
    fn demangles_legacy_names() {
        assert_eq!(
            demangle_short("_ZN8bytewise3imp7aarch644load17h0123456789abcdefE"),
            "bytewise::imp::aarch64::load"
        );
        assert_eq!(demangle_short("memcpy"), "memcpy");
    }
}
