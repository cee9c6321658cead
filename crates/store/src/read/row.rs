//! How a row of a short read becomes a row struct, on both backends: by column name, each
//! column looked for first where the last one ended ([`FromSqlite`], [`FromPg`]); the
//! [`row!`](crate::row) macro derives both for a struct.

/// A row read from SQLite by column name (what sqlx's `FromRow` is for the other path).
pub trait FromSqlite: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Self::from_sqlite_at(row, &mut 0)
    }
    /// Reads the fields by name, expecting each at `pos` (where the last one ended).
    fn from_sqlite_at(row: &rusqlite::Row<'_>, pos: &mut usize) -> rusqlite::Result<Self>;
}

/// One column of a row, by name. A struct made by [`row!`](crate::row) is a column too: it
/// reads its own columns from the same row (sqlx's `#[sqlx(flatten)]`).
pub trait Col: Sized {
    fn col(row: &rusqlite::Row<'_>, name: &str, pos: &mut usize) -> rusqlite::Result<Self>;
}

/// The index of column `name`: `*pos` when that column has the name (a query selects the
/// columns in the struct's order, so this is the usual case and costs one comparison), else
/// found by name like sqlx does; `*pos` moves past it. Looking every column up by name was a
/// tenth of a case page's CPU (issue 14).
pub fn column(row: &rusqlite::Row<'_>, name: &str, pos: &mut usize) -> rusqlite::Result<usize> {
    let st = row.as_ref();
    let idx = if st.column_name(*pos).is_ok_and(|n| n == name) {
        *pos
    } else {
        st.column_index(name)?
    };
    *pos = idx + 1;
    Ok(idx)
}

/// Column types, read on both backends: `Col` (SQLite) and `PgCol` (PostgreSQL). A type
/// written `T as S` is stored as an `S` and made by `T::try_from` — the domain values stored as
/// their text name (sqlx's `#[sqlx(try_from = "String")]`); the others are read as they are
/// (their `try_from` is the identity, which cannot fail).
macro_rules! cols {
    (@stored $t:ty) => { $t };
    (@stored $t:ty, $stored:ty) => { $stored };
    ($($t:ty $(as $stored:ty)?),* $(,)?) => {$(
        impl Col for $t {
            fn col(row: &rusqlite::Row<'_>, name: &str, pos: &mut usize) -> rusqlite::Result<Self> {
                let idx = column(row, name, pos)?;
                let v: cols!(@stored $t $(, $stored)?) = row.get(idx)?;
                <$t>::try_from(v).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        idx,
                        rusqlite::types::Type::Text,
                        e.to_string().into(),
                    )
                })
            }
        }
        impl PgCol for $t {
            fn pg_col(
                row: &sqlx::postgres::PgRow,
                name: &str,
                pos: &mut usize,
                checked: &mut Checked,
            ) -> std::result::Result<Self, sqlx::Error> {
                let v: cols!(@stored $t $(, $stored)?) =
                    checked.get(row, pg_column(row, name, pos)?)?;
                <$t>::try_from(v).map_err(|e| sqlx::Error::ColumnDecode {
                    index: format!("{name:?}"),
                    source: e.to_string().into(),
                })
            }
        }
    )*};
}
cols!(
    i64,
    i32,
    bool,
    String,
    Vec<u8>,
    Option<i64>,
    Option<i32>,
    Option<bool>,
    Option<String>,
    Option<Vec<u8>>,
    zizhi_domain::case::Stage as String,
    zizhi_domain::fees::ApplicationKind as String,
    zizhi_domain::review::Verdict as String,
    zizhi_domain::panel::Vote as String,
);

/// A row read from PostgreSQL as [`FromSqlite`] reads it from SQLite: by column name, each
/// expected where the last one ended — what sqlx's `FromRow` derive does, without its lookup
/// of every column's name in a hash map, and checking each field's column type against the
/// field's Rust type once per result rather than once per row (issue 14: on the register's
/// page of 51 certificates, the name lookups were 6 % of zizhi's instructions and the type
/// checks 11 %).
pub trait FromPg: Sized {
    /// A row on its own.
    fn from_pg(row: &sqlx::postgres::PgRow) -> std::result::Result<Self, sqlx::Error> {
        Self::from_pg_checked(row, &mut Checked::default())
    }
    /// A row of a result whose earlier rows were read with the same `checked`.
    fn from_pg_checked(
        row: &sqlx::postgres::PgRow,
        checked: &mut Checked,
    ) -> std::result::Result<Self, sqlx::Error> {
        checked.field = 0;
        Self::from_pg_at(row, &mut 0, checked)
    }
    /// Reads the fields by name, expecting each at `pos` (where the last one ended).
    fn from_pg_at(
        row: &sqlx::postgres::PgRow,
        pos: &mut usize,
        checked: &mut Checked,
    ) -> std::result::Result<Self, sqlx::Error>;
}

/// Which fields of a row type have had their column's type checked on an earlier row of the
/// same result. Every row of a result has the same columns (PostgreSQL describes them once
/// for the statement) and a row type reads its fields in the same order from each, so the
/// n-th field's check holds for every later row; a field is marked only once a value was
/// checked — sqlx checks no NULL, so a column whose first values are NULL is checked at its
/// first value. Past 64 fields, every value is checked.
#[derive(Debug, Default)]
pub struct Checked {
    done: u64,
    /// The field being read in the current row.
    field: usize,
}

impl Checked {
    /// Reads the next field's value at column `idx`: checked against `T`'s type until a
    /// value of this field has been.
    fn get<'r, T>(
        &mut self,
        row: &'r sqlx::postgres::PgRow,
        idx: usize,
    ) -> std::result::Result<T, sqlx::Error>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        use sqlx::{Row as _, ValueRef as _};
        let bit = 1u64.checked_shl(self.field as u32).unwrap_or(0);
        self.field += 1;
        if self.done & bit != 0 {
            return row.try_get_unchecked(idx);
        }
        let v = row.try_get(idx)?;
        if !row.try_get_raw(idx)?.is_null() {
            self.done |= bit;
        }
        Ok(v)
    }
}

/// One column of a PostgreSQL row, by name ([`Col`] for PostgreSQL): a struct made by
/// [`row!`](crate::row) reads its own columns from the same row.
pub trait PgCol: Sized {
    fn pg_col(
        row: &sqlx::postgres::PgRow,
        name: &str,
        pos: &mut usize,
        checked: &mut Checked,
    ) -> std::result::Result<Self, sqlx::Error>;
}

/// The index of column `name` in a PostgreSQL row: `*pos` when that column has the name,
/// else found by name; `*pos` moves past it (as [`column`]).
pub fn pg_column(
    row: &sqlx::postgres::PgRow,
    name: &str,
    pos: &mut usize,
) -> std::result::Result<usize, sqlx::Error> {
    use sqlx::{Column as _, Row as _};
    let idx = match row.columns().get(*pos) {
        Some(c) if c.name() == name => *pos,
        _ => row.try_column(name)?.ordinal(),
    };
    *pos = idx + 1;
    Ok(idx)
}

/// Declares a row struct (the attributes and fields as written) and reads it by its field
/// names from SQLite and from PostgreSQL: `FromSqlite`, `Col`, `FromPg` and `PgCol` for the struct.
#[macro_export]
macro_rules! row {
    (
        $(#[$m:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fm:meta])* $fvis:vis $f:ident : $t:ty ),* $(,)?
        }
    ) => {
        $(#[$m])*
        $vis struct $name {
            $( $(#[$fm])* $fvis $f : $t ),*
        }
        impl $crate::read::FromSqlite for $name {
            fn from_sqlite_at(row: &rusqlite::Row<'_>, pos: &mut usize) -> rusqlite::Result<Self> {
                Ok($name {
                    $( $f: <$t as $crate::read::Col>::col(row, stringify!($f), pos)? ),*
                })
            }
        }
        impl $crate::read::Col for $name {
            fn col(row: &rusqlite::Row<'_>, _name: &str, pos: &mut usize) -> rusqlite::Result<Self> {
                <$name as $crate::read::FromSqlite>::from_sqlite_at(row, pos)
            }
        }
        impl $crate::read::FromPg for $name {
            fn from_pg_at(
                row: &sqlx::postgres::PgRow,
                pos: &mut usize,
                checked: &mut $crate::read::Checked,
            ) -> ::std::result::Result<Self, sqlx::Error> {
                Ok($name {
                    $( $f: <$t as $crate::read::PgCol>::pg_col(row, stringify!($f), pos, checked)? ),*
                })
            }
        }
        impl $crate::read::PgCol for $name {
            fn pg_col(
                row: &sqlx::postgres::PgRow,
                _name: &str,
                pos: &mut usize,
                checked: &mut $crate::read::Checked,
            ) -> ::std::result::Result<Self, sqlx::Error> {
                <$name as $crate::read::FromPg>::from_pg_at(row, pos, checked)
            }
        }
    };
}
