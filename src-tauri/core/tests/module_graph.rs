//! The core's files import each other in one direction only: every path a file names (`use`
//! items and paths in code, through re-exports to the file that defines the item) is an edge,
//! and the graph of files must have no cycle. A `mod` declaration alone is not an edge.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

type ModPath = Vec<String>;

/// One file of the crate: the module it is, what it declares and what it names.
#[derive(Default)]
struct FileInfo {
    /// Items defined in the file, by the module path they live in (inline modules included).
    items: BTreeSet<ModPath>,
    /// Names brought in by `use`, by the path of the name: `a::b::Name` → where it points.
    aliases: HashMap<ModPath, ModPath>,
    /// Every absolute path the file names.
    named: Vec<ModPath>,
}

fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: ModPath = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

struct Collector<'a> {
    /// The module the visitor is in (the file's, plus inline modules).
    module: ModPath,
    /// Child modules of each module seen so far (files and inline).
    children: &'a BTreeMap<ModPath, BTreeSet<String>>,
    info: FileInfo,
}

impl Collector<'_> {
    /// `segments` as an absolute path, if it names something of this crate.
    fn absolute(&self, segments: &[String]) -> Option<ModPath> {
        let first = segments.first()?;
        let mut base = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.module.clone(),
            "super" => {
                let mut m = self.module.clone();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    m.pop();
                    rest = &rest[1..];
                }
                return Some(m.into_iter().chain(rest.iter().cloned()).collect());
            }
            _ => {
                let mut local = self.module.clone();
                local.push(first.clone());
                if let Some(target) = self.info.aliases.get(&local) {
                    let mut out = target.clone();
                    out.extend(segments[1..].iter().cloned());
                    return Some(out);
                }
                let is_child = self
                    .children
                    .get(&self.module)
                    .is_some_and(|c| c.contains(first));
                if !is_child {
                    return None;
                }
                return Some(
                    local
                        .into_iter()
                        .chain(segments[1..].iter().cloned())
                        .collect(),
                );
            }
        };
        base.extend(segments[1..].iter().cloned());
        Some(base)
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.alias(prefix, &n.ident.to_string(), &n.ident.to_string()),
            syn::UseTree::Rename(r) => {
                self.alias(prefix, &r.ident.to_string(), &r.rename.to_string())
            }
            syn::UseTree::Glob(_) => {
                if let Some(abs) = self.absolute(prefix) {
                    self.info.named.push(abs);
                }
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    fn alias(&mut self, prefix: &[String], name: &str, local: &str) {
        let mut segments = prefix.to_vec();
        if name != "self" {
            segments.push(name.to_owned());
        }
        if let Some(abs) = self.absolute(&segments) {
            let mut key = self.module.clone();
            key.push(if name == "self" {
                segments.last().cloned().unwrap_or_default()
            } else {
                local.to_owned()
            });
            self.info.named.push(abs.clone());
            self.info.aliases.insert(key, abs);
        }
    }

    fn defined(&mut self, ident: &syn::Ident) {
        let mut path = self.module.clone();
        path.push(ident.to_string());
        self.info.items.insert(path);
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if let Some((_, items)) = &m.content {
            self.module.push(m.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.module.pop();
        }
    }

    fn visit_item(&mut self, item: &'ast syn::Item) {
        match item {
            syn::Item::Struct(i) => self.defined(&i.ident),
            syn::Item::Enum(i) => self.defined(&i.ident),
            syn::Item::Fn(i) => self.defined(&i.sig.ident),
            syn::Item::Const(i) => self.defined(&i.ident),
            syn::Item::Static(i) => self.defined(&i.ident),
            syn::Item::Trait(i) => self.defined(&i.ident),
            syn::Item::Type(i) => self.defined(&i.ident),
            syn::Item::Union(i) => self.defined(&i.ident),
            _ => {}
        }
        syn::visit::visit_item(self, item);
    }

    // `pub(crate)` and `pub(super)` name modules, not something used.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 || segments.first().is_some_and(|s| s == "crate") {
            if let Some(abs) = self.absolute(&segments) {
                self.info.named.push(abs);
            }
        }
        syn::visit::visit_path(self, path);
    }
}

/// The file that defines what `path` names, following re-exports.
fn resolve(
    path: &[String],
    files: &BTreeMap<ModPath, PathBuf>,
    infos: &HashMap<PathBuf, FileInfo>,
    depth: usize,
) -> Option<PathBuf> {
    // The longest prefix that is a module with a file of its own.
    let (len, file) = (0..=path.len())
        .rev()
        .find_map(|n| files.get(&path[..n]).map(|f| (n, f)))?;
    if depth > 8 || len == path.len() {
        return Some(file.clone());
    }
    let info = &infos[file];
    // Defined here (possibly in an inline module of the file)?
    for n in (len + 1..=path.len()).rev() {
        if info.items.contains(&path[..n]) {
            return Some(file.clone());
        }
        if let Some(target) = info.aliases.get(&path[..n]) {
            let mut next = target.clone();
            next.extend(path[n..].iter().cloned());
            return resolve(&next, files, infos, depth + 1).or(Some(file.clone()));
        }
    }
    Some(file.clone())
}

#[test]
fn the_core_has_no_import_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: BTreeMap<ModPath, PathBuf> = paths
        .iter()
        .map(|p| (module_of(&src, p), p.clone()))
        .collect();
    let parsed: Vec<(PathBuf, syn::File)> = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.clone(), file)
        })
        .collect();
    // Child modules: file modules, and inline ones.
    let mut children: BTreeMap<ModPath, BTreeSet<String>> = BTreeMap::new();
    for m in files.keys().filter(|m| !m.is_empty()) {
        children
            .entry(m[..m.len() - 1].to_vec())
            .or_default()
            .insert(m[m.len() - 1].clone());
    }
    for (p, file) in &parsed {
        let base = module_of(&src, p);
        for item in &file.items {
            if let syn::Item::Mod(m) = item {
                if m.content.is_some() {
                    children
                        .entry(base.clone())
                        .or_default()
                        .insert(m.ident.to_string());
                }
            }
        }
    }
    // Two passes: aliases first (a path may name an alias declared further down).
    let mut infos: HashMap<PathBuf, FileInfo> = HashMap::new();
    for _ in 0..2 {
        for (p, file) in &parsed {
            let mut c = Collector {
                module: module_of(&src, p),
                children: &children,
                info: infos
                    .remove(p)
                    .map(|mut i| {
                        i.named.clear();
                        i
                    })
                    .unwrap_or_default(),
            };
            c.visit_file(file);
            infos.insert(p.clone(), c.info);
        }
    }
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (p, info) in &infos {
        for named in &info.named {
            if let Some(target) = resolve(named, &files, &infos, 0) {
                if std::env::var("GRAPH_DEBUG")
                    .is_ok_and(|f| p.ends_with(&f) || target.ends_with(&f))
                {
                    eprintln!("{} {:?} -> {}", p.display(), named, target.display());
                }
                if &target != p {
                    edges.entry(p.clone()).or_default().insert(target);
                }
            }
        }
    }
    let cycles = strongly_connected(&edges);
    let src = src.as_path();
    let shown: Vec<String> = cycles
        .iter()
        .map(|c| {
            let names: Vec<String> = c
                .iter()
                .map(|f| f.strip_prefix(src).unwrap().display().to_string())
                .collect();
            let why: Vec<String> = shortest_cycles(&edges, c)
                .iter()
                .map(|cycle| {
                    let files: Vec<String> = cycle
                        .iter()
                        .map(|f| f.strip_prefix(src).unwrap().display().to_string())
                        .collect();
                    format!("    {}", files.join(" → "))
                })
                .collect();
            format!("  {{{}}}\n{}", names.join(", "), why.join("\n"))
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "{} import cycles between files of src-tauri/core/src:\n{}",
        cycles.len(),
        shown.join("\n")
    );
    assert!(
        edges.len() > 50,
        "the check found too few imports to be looking"
    );
}

/// Tarjan's strongly connected components of more than one file.
fn strongly_connected(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: HashMap<&'a PathBuf, usize>,
        low: HashMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        out: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(next) = s.edges.get(v) {
            for w in next {
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// For each file of the component, the shortest way back to itself (breadth first), without
/// repeats: enough to see which imports to turn around.
fn shortest_cycles(
    edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    component: &[PathBuf],
) -> Vec<Vec<PathBuf>> {
    let mut seen: BTreeSet<Vec<PathBuf>> = BTreeSet::new();
    for start in component {
        let mut prev: HashMap<&PathBuf, &PathBuf> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        'search: while let Some(at) = queue.pop_front() {
            for next in edges.get(at).into_iter().flatten() {
                if !component.contains(next) {
                    continue;
                }
                if next == start {
                    let mut cycle = vec![at.clone()];
                    while cycle.last().unwrap() != start {
                        cycle.push(prev[cycle.last().unwrap()].clone());
                    }
                    cycle.reverse();
                    // One rotation per cycle: start at its smallest file.
                    let min = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap();
                    cycle.rotate_left(min);
                    cycle.push(cycle[0].clone());
                    seen.insert(cycle);
                    break 'search;
                }
                if !prev.contains_key(next) && next != start {
                    prev.insert(next, at);
                    queue.push_back(next);
                }
            }
        }
    }
    seen.into_iter().collect()
}
