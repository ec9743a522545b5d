//! The calls an import makes, sent with retries that reuse their request id.

use cogov_proto::organizations::*;
use cogov_proto::volunteers::{
    CreateTeamMemberRequest, CreateVolunteerRequest, UpdateVolunteerRequest,
};
use tonic::{Code, Status};

use crate::link::Clients;

/// One create or update.
#[derive(Debug, Clone)]
pub enum Op {
    /// A new courtyard.
    CreateCourtyard(CreateCourtyardRequest),
    /// A courtyard's changed fields.
    UpdateCourtyard(UpdateCourtyardRequest),
    /// A new building.
    CreateBuilding(CreateBuildingRequest),
    /// A building's changed fields.
    UpdateBuilding(UpdateBuildingRequest),
    /// A new person.
    CreatePerson(CreatePersonRequest),
    /// A person's changed fields.
    UpdatePerson(UpdatePersonRequest),
    /// A new talent.
    CreateTalent(CreateTalentRequest),
    /// A talent's changed fields.
    UpdateTalent(UpdateTalentRequest),
    /// A new shared resource.
    CreateSharedResource(CreateSharedResourceRequest),
    /// A shared resource's changed fields.
    UpdateSharedResource(UpdateSharedResourceRequest),
    /// A volunteer's record and, when the row names a team they are not in
    /// yet, their joining it.
    Volunteer {
        /// The record.
        save: Box<VolunteerSave>,
        /// Joining the team (`member.volunteer` empty for a new volunteer:
        /// filled in once it exists).
        join: Option<CreateTeamMemberRequest>,
    },
}

/// What a volunteers row does with the volunteer's record.
#[derive(Debug, Clone)]
pub enum VolunteerSave {
    /// Registers the person as a volunteer.
    Create(CreateVolunteerRequest),
    /// Adds skills.
    Update(UpdateVolunteerRequest),
    /// Leaves `volunteers/{id}` as it is.
    Keep(String),
}

impl Op {
    /// Whether it creates.
    pub fn creates(&self) -> bool {
        matches!(
            self,
            Op::CreateCourtyard(_)
                | Op::CreateBuilding(_)
                | Op::CreatePerson(_)
                | Op::CreateTalent(_)
                | Op::CreateSharedResource(_)
        ) || matches!(self, Op::Volunteer { save, .. } if matches!(**save, VolunteerSave::Create(_)))
    }

    /// Sends it, retrying what a retry may mend (the same request id makes
    /// a retried create safe).
    pub async fn send(&self, clients: &Clients) -> Result<(), Status> {
        crate::link::retried(|| self.once(clients.clone())).await
    }

    async fn once(&self, clients: Clients) -> Result<(), Status> {
        let mut o = clients.organizations;
        match self.clone() {
            Op::CreateCourtyard(r) => o.create_courtyard(r).await.map(drop),
            Op::UpdateCourtyard(r) => o.update_courtyard(r).await.map(drop),
            Op::CreateBuilding(r) => o.create_building(r).await.map(drop),
            Op::UpdateBuilding(r) => o.update_building(r).await.map(drop),
            Op::CreatePerson(r) => o.create_person(r).await.map(drop),
            Op::UpdatePerson(r) => o.update_person(r).await.map(drop),
            Op::CreateTalent(r) => o.create_talent(r).await.map(drop),
            Op::UpdateTalent(r) => o.update_talent(r).await.map(drop),
            Op::CreateSharedResource(r) => o.create_shared_resource(r).await.map(drop),
            Op::UpdateSharedResource(r) => o.update_shared_resource(r).await.map(drop),
            Op::Volunteer { save, join } => {
                let mut v = clients.volunteers;
                // A retry sends the create again with its request id, so
                // it answers with the volunteer created the first time.
                let name = match *save {
                    VolunteerSave::Create(r) => v.create_volunteer(r).await?.into_inner().name,
                    VolunteerSave::Update(r) => v.update_volunteer(r).await?.into_inner().name,
                    VolunteerSave::Keep(name) => name,
                };
                match join {
                    Some(mut r) => {
                        if let Some(m) = r.member.as_mut() {
                            m.volunteer = name;
                        }
                        v.create_team_member(r).await.map(drop)
                    }
                    None => Ok(()),
                }
            }
        }
    }
}

/// Codes that refuse every row alike: the run stops.
pub fn fatal(code: Code) -> bool {
    matches!(
        code,
        Code::Unauthenticated | Code::PermissionDenied | Code::Unimplemented
    )
}

/// A new request id (a retry of the same call reuses it).
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An update mask of `paths`.
pub fn mask(paths: Vec<&str>) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.into_iter().map(str::to_owned).collect(),
    })
}
