//! The district's people: the centre's commander and dispatchers, the district's leaders,
//! handlers in every department that takes city cases, each street's platform (a
//! department of its own) with its leader and staff, and a full-time worker for every grid.
//! Names come from [`crate::names`]; usernames say what the account is and start with
//! `sim-`, so that a generated account is never taken for a real one.

use std::collections::BTreeMap;

use cockpit_access::{Role, Scope, ScopeLevel};
use cockpit_geo::{City, Level};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::names::person_name;

/// A department: its id, its name (what dispatch rules and assignees name) and parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its parent's id.
    pub parent: Option<String>,
}

/// A generated account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The login name (`sim-...`).
    pub username: String,
    /// The generated name with the post, e.g. `陈静（专职网格员）`.
    pub display_name: String,
    /// The one role the account holds.
    pub role: Role,
    /// The department's id.
    pub department: Option<String>,
    /// What the account may see.
    pub scope: Scope,
}

/// The demonstration's login accounts the history gives work to: the grid worker (its
/// grid has open tasks) and the leader (bound to cases, with instructions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demo {
    /// The grid the demonstration's grid worker owns.
    pub grid: String,
    /// Its username (`gridworker`).
    pub grid_worker: String,
    /// The demonstration leader's username (`leader`).
    pub leader: String,
}

/// Everyone the history needs, by what they do.
#[derive(Debug, Clone)]
pub struct People {
    /// The street platforms, departments this generator adds (the district's own come in).
    pub departments: Vec<Department>,
    /// Every generated account.
    pub persons: Vec<Person>,
    commanders: Vec<String>,
    dispatchers: Vec<String>,
    leaders: Vec<String>,
    /// Handlers by department name.
    handlers: BTreeMap<String, Vec<String>>,
    /// Street staff by street code.
    street_staff: BTreeMap<String, Vec<String>>,
    /// The worker of each grid (the demonstration's account for its grid).
    grid_workers: BTreeMap<String, String>,
}

/// Departments that do not handle cases themselves: the government, and the centre whose
/// people dispatch.
const NOT_HANDLING: &[&str] = &["district", "command-centre"];
/// The centre's department id (dispatchers and the commander belong to it).
const CENTRE: &str = "command-centre";

impl People {
    /// Generates the people of `city`, whose district departments are `departments` (id,
    /// name, parent), from `seed`. The demonstration's grid worker, if any, keeps its grid.
    pub fn generate(city: &City, departments: &[Department], demo: Option<&Demo>, seed: u64) -> People {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0);
        let mut people = People {
            departments: Vec::new(),
            persons: Vec::new(),
            commanders: Vec::new(),
            dispatchers: Vec::new(),
            leaders: Vec::new(),
            handlers: BTreeMap::new(),
            street_staff: BTreeMap::new(),
            grid_workers: BTreeMap::new(),
        };
        let district = city.district().code.as_str().to_string();
        let has = |id: &str| departments.iter().any(|d| d.id == id);
        let centre = has(CENTRE).then(|| CENTRE.to_string());
        let government = has("district").then(|| "district".to_string());
        let add = |people: &mut People, rng: &mut ChaCha8Rng, username: String, post: &str, role, department, scope| {
            let name = person_name(rng);
            people.persons.push(Person {
                username: username.clone(),
                display_name: format!("{name}（{post}）"),
                role,
                department,
                scope,
            });
            username
        };
        let whole = Scope::district(&district);
        let u = add(
            &mut people,
            &mut rng,
            "sim-commander".into(),
            "指挥中心主任",
            Role::Commander,
            centre.clone(),
            whole.clone(),
        );
        people.commanders.push(u);
        for i in 1..=8 {
            let u = add(
                &mut people,
                &mut rng,
                format!("sim-dispatcher-{i:02}"),
                "调度员",
                Role::Dispatcher,
                centre.clone(),
                whole.clone(),
            );
            people.dispatchers.push(u);
        }
        for (i, post) in ["区长", "常务副区长", "副区长", "副区长", "区委政法委书记", "副区长"].iter().enumerate()
        {
            let u = add(
                &mut people,
                &mut rng,
                format!("sim-leader-{:02}", i + 1),
                post,
                Role::Leader,
                government.clone(),
                whole.clone(),
            );
            people.leaders.push(u);
        }
        for department in departments.iter().filter(|d| !NOT_HANDLING.contains(&d.id.as_str())) {
            let n = rng.random_range(3..=5);
            for i in 1..=n {
                let username = format!("sim-{}-{i:02}", department.id);
                let u = add(
                    &mut people,
                    &mut rng,
                    username,
                    "处置员",
                    Role::DepartmentHandler,
                    Some(department.id.clone()),
                    whole.clone(),
                );
                people.handlers.entry(department.name.clone()).or_default().push(u);
            }
        }
        for street in city.level(Level::Street) {
            let code = street.code.as_str().to_string();
            let id = format!("street-{code}");
            let name = format!("{}综合信息指挥室", street.name);
            people.departments.push(Department { id: id.clone(), name: name.clone(), parent: government.clone() });
            let scope = Scope { level: ScopeLevel::Street, code: code.clone() };
            let u = add(
                &mut people,
                &mut rng,
                format!("sim-{code}-leader"),
                "街镇分管领导",
                Role::Leader,
                Some(id.clone()),
                scope.clone(),
            );
            people.leaders.push(u);
            for i in 1..=3 {
                let u = add(
                    &mut people,
                    &mut rng,
                    format!("sim-{code}-staff-{i}"),
                    "四平台工作人员",
                    Role::DepartmentHandler,
                    Some(id.clone()),
                    scope.clone(),
                );
                people.street_staff.entry(code.clone()).or_default().push(u.clone());
                people.handlers.entry(name.clone()).or_default().push(u);
            }
        }
        for grid in city.level(Level::Grid) {
            let code = grid.code.as_str().to_string();
            if let Some(demo) = demo.filter(|d| d.grid == code) {
                people.grid_workers.insert(code, demo.grid_worker.clone());
                continue;
            }
            let street = street_of(city, grid).map(|s| format!("street-{s}"));
            let scope = Scope { level: ScopeLevel::Grid, code: code.clone() };
            let u = add(&mut people, &mut rng, format!("sim-gw-{code}"), "专职网格员", Role::GridWorker, street, scope);
            people.grid_workers.insert(code, u);
        }
        people
    }

    /// The centre's commanders.
    pub fn commanders(&self) -> &[String] {
        &self.commanders
    }

    /// The centre's dispatchers.
    pub fn dispatchers(&self) -> &[String] {
        &self.dispatchers
    }

    /// The district's and the streets' leaders.
    pub fn leaders(&self) -> &[String] {
        &self.leaders
    }

    /// The handlers of the department named `name` (none when it has no generated staff).
    pub fn handlers(&self, name: &str) -> &[String] {
        self.handlers.get(name).map_or(&[], Vec::as_slice)
    }

    /// The platform staff of a street.
    pub fn street_staff(&self, street: &str) -> &[String] {
        self.street_staff.get(street).map_or(&[], Vec::as_slice)
    }

    /// The worker of a grid.
    pub fn grid_worker(&self, grid: &str) -> Option<&str> {
        self.grid_workers.get(grid).map(String::as_str)
    }
}

fn street_of(city: &City, region: &cockpit_geo::Region) -> Option<String> {
    let id = region.id;
    city.ancestors(id).find(|r| r.level == Level::Street).map(|r| r.code.as_str().to_string())
}
