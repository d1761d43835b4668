//! Typed ids: `u32`/`u16` newtypes that index the estate's arenas.
//!
//! Owns the id types so that a client id can never be used as an update id.

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident($inner:ty);)*) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl $name {
            /// Position in its arena.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

id_type! {
    /// A client, numbered across all cohorts in file order.
    ClientId(u32);
    /// A cohort.
    CohortId(u16);
    /// An update of the catalog.
    UpdateId(u16);
    /// A deployment.
    DeploymentId(u16);
    /// A management point.
    MpId(u16);
    /// A software update point.
    SupId(u16);
    /// A distribution point.
    DpId(u16);
    /// A client settings object.
    SettingsId(u16);
    /// A primary site (0 for a standalone primary).
    SiteId(u16);
    /// A branch location and its WAN link.
    LocationId(u16);
}
