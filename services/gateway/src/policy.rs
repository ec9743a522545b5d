//! The method policy: which kinds of principal may call which RPC, and
//! which RPCs change something (and so leave an audit record). Deny by
//! default: an RPC without a row here is refused to everyone, and a test
//! fails until it has one.
//!
//! The rows grant coarsely; the services check every object against the
//! caller's reach (defence in depth). Partners get the reads of what their
//! agreements reach and the writes of the work they do there: reporting and
//! resolving issues, running the activities they organise, proposing
//! topics and reporting progress on their action items. Administration of
//! the street, its councils and the gateway stays with staff. Residents get
//! the public information of the street and what they do as themselves:
//! reporting and following their issues, signing up, their hours and
//! points, their councils' topics, discussions and polls. The sign-in
//! steps are public: they take no credential (any sent is ignored, so an
//! expired access token does not stand in the way of its renewal).

/// A set of principal kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds(u8);

impl Kinds {
    /// Street admins.
    pub const STREET: Kinds = Kinds(1);
    /// Community admins.
    pub const COMMUNITY: Kinds = Kinds(2);
    /// Partner organisations.
    pub const PARTNER: Kinds = Kinds(4);
    /// Signed-in residents.
    pub const RESIDENT: Kinds = Kinds(8);
    /// Anyone, credentials or not (and unread): only the sign-in steps.
    pub const PUBLIC: Kinds = Kinds(16);
    /// Nobody through the gateway (internal services' own calls).
    pub const NOBODY: Kinds = Kinds(0);

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: Kinds) -> bool {
        kind.0 != 0 && self.0 & kind.0 == kind.0
    }

    const fn or(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }
}

const STREET: Kinds = Kinds::STREET;
const STAFF: Kinds = Kinds::STREET.or(Kinds::COMMUNITY);
const STAFF_AND_PARTNERS: Kinds = STAFF.or(Kinds::PARTNER);
const ANYONE: Kinds = STAFF_AND_PARTNERS;
const RESIDENT: Kinds = Kinds::RESIDENT;
const STAFF_AND_RESIDENTS: Kinds = STAFF.or(Kinds::RESIDENT);
const EVERYONE: Kinds = STAFF_AND_PARTNERS.or(Kinds::RESIDENT);
const PUBLIC: Kinds = Kinds::PUBLIC;
const NOBODY: Kinds = Kinds::NOBODY;
const READ: bool = false;
const WRITE: bool = true;

/// What the policy says of one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Who may call it.
    pub kinds: Kinds,
    /// Whether it changes something (audited).
    pub mutates: bool,
}

/// The rule of a full method path (`/package.Service/Method`), if any.
pub fn rule(path: &str) -> Option<Rule> {
    TABLE
        .binary_search_by(|(p, _, _)| (*p).cmp(path))
        .ok()
        .map(|i| Rule {
            kinds: TABLE[i].1,
            mutates: TABLE[i].2,
        })
}

/// Every RPC behind the gateway, sorted by path.
pub const TABLE: &[(&str, Kinds, bool)] = &[
    (
        "/cogov.deliberation.v1.DeliberationService/CancelMeeting",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CastVote",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CheckCouncilComposition",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CheckQuorum",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ClosePoll",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CompleteTopic",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreateActionItem",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreateAttendance",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreateCouncil",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreateMeeting",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreateOfflineTally",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreateOpinion",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreatePoll",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreateResolution",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreateSeat",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/CreateTopic",
        EVERYONE,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/DeleteCouncil",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/DeleteSeat",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/EndMeeting",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/GetActionItem",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/GetCouncil",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/GetCouncilStatistics",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/GetMeeting",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/GetPoll",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/GetPollResult",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/GetResolution",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/GetSeat",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/GetTopic",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/HideOpinion",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListActionItems",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListAttendances",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListBallots",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListCouncils",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListMeetings",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListOpinions",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListPolls",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListResolutions",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListSeats",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ListTopics",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/OpenPoll",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/OpenTopicDiscussion",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/RejectTopic",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/ScheduleTopic",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/StartMeeting",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/SupportTopic",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/UpdateActionItem",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/UpdateCouncil",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/UpdateMeeting",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/UpdatePoll",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/UpdateResolution",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/UpdateSeat",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/UpdateTopic",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.deliberation.v1.DeliberationService/WithdrawTopic",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.GatewayService/CreateApiKey",
        STREET,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.GatewayService/CreatePartner",
        STREET,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.GatewayService/CreateStaffAccount",
        STREET,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.GatewayService/DeleteStaffAccount",
        STREET,
        WRITE,
    ),
    ("/cogov.gateway.v1.GatewayService/GetCaller", EVERYONE, READ),
    ("/cogov.gateway.v1.GatewayService/GetPartner", STREET, READ),
    ("/cogov.gateway.v1.GatewayService/ListApiKeys", STREET, READ),
    (
        "/cogov.gateway.v1.GatewayService/ListAuditRecords",
        STREET,
        READ,
    ),
    (
        "/cogov.gateway.v1.GatewayService/ListPartners",
        STREET,
        READ,
    ),
    (
        "/cogov.gateway.v1.GatewayService/ListStaffAccounts",
        STREET,
        READ,
    ),
    (
        "/cogov.gateway.v1.GatewayService/RevokeApiKey",
        STREET,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.GatewayService/RotateApiKey",
        STREET,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.GatewayService/UpdatePartner",
        STREET,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.GatewayService/UpdateStaffAccount",
        STREET,
        WRITE,
    ),
    ("/cogov.gateway.v1.GatewayService/WatchEvents", ANYONE, READ),
    (
        "/cogov.gateway.v1.ResidentsService/CarryOutErasure",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/DeclineErasure",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/EndResidentSession",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/ExportMyData",
        RESIDENT,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/GetPrivacyNotice",
        PUBLIC,
        READ,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/ListErasureRequests",
        STAFF_AND_RESIDENTS,
        READ,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/ListNotices",
        RESIDENT,
        READ,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/ListResidentSessions",
        STAFF_AND_RESIDENTS,
        READ,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/MarkNoticesRead",
        RESIDENT,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/RefreshResidentSession",
        PUBLIC,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/RegisterResident",
        PUBLIC,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/RequestErasure",
        RESIDENT,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/SendSignInCode",
        PUBLIC,
        WRITE,
    ),
    ("/cogov.gateway.v1.ResidentsService/SignIn", PUBLIC, WRITE),
    (
        "/cogov.gateway.v1.ResidentsService/SignOut",
        RESIDENT,
        WRITE,
    ),
    (
        "/cogov.gateway.v1.ResidentsService/WatchNotices",
        RESIDENT,
        READ,
    ),
    (
        "/cogov.issues.v1.IssuesService/AcknowledgeIssue",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/CheckInIssue",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/ComputeIssueStatistics",
        STAFF,
        READ,
    ),
    (
        "/cogov.issues.v1.IssuesService/ConfirmIssue",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/CreateCategory",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/CreateInspection",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/CreateIssueComment",
        EVERYONE,
        WRITE,
    ),
    ("/cogov.issues.v1.IssuesService/CreateSubItem", STAFF, WRITE),
    (
        "/cogov.issues.v1.IssuesService/DismissIssueCluster",
        STAFF,
        WRITE,
    ),
    ("/cogov.issues.v1.IssuesService/DispatchIssue", STAFF, WRITE),
    ("/cogov.issues.v1.IssuesService/EscalateIssue", STAFF, WRITE),
    (
        "/cogov.issues.v1.IssuesService/EscalateIssueCluster",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/FindSimilarIssues",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.issues.v1.IssuesService/FollowIssue",
        RESIDENT,
        WRITE,
    ),
    ("/cogov.issues.v1.IssuesService/GetCategory", EVERYONE, READ),
    (
        "/cogov.issues.v1.IssuesService/GetCourtyardTwoNos",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.issues.v1.IssuesService/GetInspection",
        STAFF_AND_PARTNERS,
        READ,
    ),
    ("/cogov.issues.v1.IssuesService/GetIssue", EVERYONE, READ),
    (
        "/cogov.issues.v1.IssuesService/GetIssueCluster",
        STAFF_AND_PARTNERS,
        READ,
    ),
    ("/cogov.issues.v1.IssuesService/GetSubItem", EVERYONE, READ),
    (
        "/cogov.issues.v1.IssuesService/JointDispatchIssue",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/ListCategories",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.issues.v1.IssuesService/ListCourtyardTwoNos",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.issues.v1.IssuesService/ListInspections",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.issues.v1.IssuesService/ListIssueClusters",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.issues.v1.IssuesService/ListIssueUpdates",
        EVERYONE,
        READ,
    ),
    ("/cogov.issues.v1.IssuesService/ListIssues", EVERYONE, READ),
    (
        "/cogov.issues.v1.IssuesService/ListSubItems",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.issues.v1.IssuesService/MarkDuplicateIssue",
        STAFF,
        WRITE,
    ),
    ("/cogov.issues.v1.IssuesService/RejectIssue", STAFF, WRITE),
    (
        "/cogov.issues.v1.IssuesService/ReopenIssue",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/ReportIssue",
        EVERYONE,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/ResolveIssue",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/ReturnIssue",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/StartIssue",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/UnfollowIssue",
        RESIDENT,
        WRITE,
    ),
    (
        "/cogov.issues.v1.IssuesService/UpdateCategory",
        STAFF,
        WRITE,
    ),
    ("/cogov.issues.v1.IssuesService/UpdateIssue", STAFF, WRITE),
    ("/cogov.issues.v1.IssuesService/UpdateSubItem", STAFF, WRITE),
    (
        "/cogov.organizations.v1.OrganizationsService/CreateAgreement",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/CreateBuilding",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/CreateCommunity",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/CreateCourtyard",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/CreateMembership",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/CreateOrganization",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/CreatePerson",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/CreateSharedResource",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/CreateStreet",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/CreateTalent",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeleteAgreement",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeleteBuilding",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeleteCommunity",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeleteCourtyard",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeleteMembership",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeleteOrganization",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeletePerson",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeleteSharedResource",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeleteStreet",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/DeleteTalent",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ErasePerson",
        NOBODY,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetAgreement",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetBuilding",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetCommunity",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetCourtyard",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetMembership",
        STAFF,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetOrganization",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetPerson",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetSharedResource",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetStreet",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/GetTalent",
        STAFF,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListAgreements",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListBuildings",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListCommunities",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListCourtyards",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListDescendants",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListMemberships",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListOrganizations",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListPersons",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListSharedResources",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListStreets",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ListTalents",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/RegisterPerson",
        NOBODY,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/ResolveReach",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/TerminateAgreement",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdateAgreement",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdateBuilding",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdateCommunity",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdateCourtyard",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdateMembership",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdateOrganization",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdatePerson",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdateSharedResource",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdateStreet",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/UpdateTalent",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.organizations.v1.OrganizationsService/VerifyPerson",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ApproveServiceRecord",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CancelActivity",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CancelSignup",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CheckInSignup",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CheckOutSignup",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CompleteActivity",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ComputeVolunteerHours",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CreateActivity",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CreateCommendation",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CreateCompletion",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CreateCourse",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CreateServiceRecord",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CreateSignup",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CreateTeam",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CreateTeamMember",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/CreateVolunteer",
        STAFF_AND_RESIDENTS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/DeleteActivity",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/DeleteTeam",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/DeleteTeamMember",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/GetActivity",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/GetCourse",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/GetPointsAccount",
        STAFF_AND_RESIDENTS,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/GetServiceRecord",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/GetSignup",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/GetTeam",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/GetTimeBankPolicy",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/GetVolunteer",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListActivities",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListBadges",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListCommendations",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListCompletions",
        STAFF,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListCourses",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListPointsEntries",
        STAFF_AND_RESIDENTS,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListServiceRecords",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListSignups",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListTeamMembers",
        STAFF_AND_PARTNERS,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/ListTeams",
        EVERYONE,
        READ,
    ),
    // A resident lists only their own record (the service filters): how
    // the residents' app finds the volunteer to sign up as.
    (
        "/cogov.volunteers.v1.VolunteersService/ListVolunteers",
        EVERYONE,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/MatchVolunteers",
        STAFF,
        READ,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/PublishActivity",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/RedeemPoints",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/RejectServiceRecord",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/StartActivity",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/UpdateActivity",
        STAFF_AND_PARTNERS,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/UpdateCourse",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/UpdateTeam",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/UpdateTeamMember",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/UpdateTimeBankPolicy",
        STAFF,
        WRITE,
    ),
    (
        "/cogov.volunteers.v1.VolunteersService/UpdateVolunteer",
        STAFF,
        WRITE,
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;

    use super::*;

    #[test]
    fn every_rpc_has_exactly_one_row() {
        let fds = prost_types::FileDescriptorSet::decode(cogov_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let methods: BTreeSet<String> = fds
            .file
            .iter()
            .filter(|f| f.package().starts_with("cogov."))
            .flat_map(|f| {
                f.service.iter().flat_map(move |s| {
                    s.method
                        .iter()
                        .map(move |m| format!("/{}.{}/{}", f.package(), s.name(), m.name()))
                })
            })
            .collect();
        let rows: Vec<&str> = TABLE.iter().map(|(p, _, _)| *p).collect();
        let mut sorted = rows.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(rows, sorted, "rows sorted, once each");
        let rows: BTreeSet<String> = rows.into_iter().map(str::to_owned).collect();
        let missing: Vec<_> = methods.difference(&rows).collect();
        assert!(missing.is_empty(), "RPCs without a policy row: {missing:?}");
        let unknown: Vec<_> = rows.difference(&methods).collect();
        assert!(
            unknown.is_empty(),
            "rows for RPCs that do not exist: {unknown:?}"
        );
    }

    #[test]
    fn partners_never_administer() {
        for (path, kinds, _) in TABLE {
            let admin = path.starts_with("/cogov.gateway.v1.GatewayService/")
                && !path.ends_with("/GetCaller")
                && !path.ends_with("/WatchEvents");
            if admin
                || path.contains("/Create")
                    && (path.contains("Street") || path.contains("Agreement"))
                || path.ends_with("/DispatchIssue")
                || path.ends_with("/CreatePoll")
            {
                assert!(!kinds.contains(Kinds::PARTNER), "{path}");
            }
        }
        assert!(rule("/cogov.issues.v1.IssuesService/ReportIssue").is_some_and(|r| r.mutates));
        assert!(rule("/cogov.issues.v1.IssuesService/GetIssue").is_some_and(|r| !r.mutates));
        assert!(rule("/cogov.issues.v1.IssuesService/Nope").is_none());
        // Reads are the Get, List and the few named queries; anything else
        // changes something and is audited.
        const QUERIES: [&str; 7] = [
            "CheckCouncilComposition",
            "CheckQuorum",
            "ComputeIssueStatistics",
            "ComputeVolunteerHours",
            "FindSimilarIssues",
            "MatchVolunteers",
            "ResolveReach",
        ];
        for (path, _, mutates) in TABLE {
            let method = path.rsplit('/').next().unwrap();
            let read = method.starts_with("Get")
                || method.starts_with("List")
                || method.starts_with("Watch")
                || QUERIES.contains(&method);
            assert_eq!(*mutates, !read, "{path}");
        }
    }
}
