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
                let idx = checked.column(row, name, pos)?;
                let v: cols!(@stored $t $(, $stored)?) = checked.get(row, idx)?;
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
/// same result, and at which column each field was found. Every row of a result has the same
/// columns (PostgreSQL describes them once for the statement) and a row type reads its fields
/// in the same order from each, so the n-th field's check and column hold for every later row;
/// a field is marked checked only once a value was — sqlx checks no NULL, so a column whose
/// first values are NULL is checked at its first value. Past 64 fields, every value is checked
/// and every column found by name.
#[derive(Debug)]
pub struct Checked {
    done: u64,
    /// The fields whose column is known (`at`).
    placed: u64,
    at: [u16; 64],
    /// The field being read in the current row.
    field: usize,
}

impl Default for Checked {
    fn default() -> Checked {
        Checked {
            done: 0,
            placed: 0,
            at: [0; 64],
            field: 0,
        }
    }
}

impl Checked {
    /// The current field's bit in `done` and `placed` (none past 64 fields).
    fn bit(&self) -> u64 {
        1u64.checked_shl(self.field as u32).unwrap_or(0)
    }

    /// The column of the current field, named `name`: where it was found on the result's
    /// first row, else by [`pg_column`]; `*pos` moves past it.
    fn column(
        &mut self,
        row: &sqlx::postgres::PgRow,
        name: &str,
        pos: &mut usize,
    ) -> std::result::Result<usize, sqlx::Error> {
        let bit = self.bit();
        if self.placed & bit != 0 {
            let idx = usize::from(self.at[self.field]);
            *pos = idx + 1;
            return Ok(idx);
        }
        let idx = pg_column(row, name, pos)?;
        if let Ok(i) = u16::try_from(idx)
            && bit != 0
        {
            self.at[self.field] = i;
            self.placed |= bit;
        }
        Ok(idx)
    }

    /// Reads the current field's value at column `idx`: checked against `T`'s type until a
    /// value of this field has been, then read from its bytes in PostgreSQL's binary format
    /// ([`Raw`]) — through sqlx's decoding, the values of a case list page of 50 rows were a
    /// quarter of zizhi's CPU on PostgreSQL (issue 14). A NULL is not checked, as in sqlx: it
    /// is `None`, or an error for a type that cannot be NULL.
    fn get<'r, T>(
        &mut self,
        row: &'r sqlx::postgres::PgRow,
        idx: usize,
    ) -> std::result::Result<T, sqlx::Error>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Raw,
    {
        use sqlx::{Row as _, ValueRef as _};
        let bit = self.bit();
        self.field += 1;
        let value = row.try_get_raw(idx)?;
        let null = value.is_null();
        if (self.done & bit != 0 || null) && value.format() == sqlx::postgres::PgValueFormat::Binary
        {
            return T::raw(value.as_bytes().ok()).map_err(|source| sqlx::Error::ColumnDecode {
                index: format!("{idx:?}"),
                source,
            });
        }
        let v = row.try_get(idx)?;
        if !null {
            self.done |= bit;
        }
        Ok(v)
    }
}

/// A value read from its bytes in PostgreSQL's binary format (`None`: NULL), once its column's
/// type has been checked against the type by sqlx ([`Checked`]): what sqlx's decoding does for
/// these types (`INT8`, `INT4` big-endian, `BOOL` one byte, text as UTF-8, `BYTEA` as it is),
/// without going through its `Decode` for every value.
pub trait Raw: Sized {
    fn raw(v: Option<&[u8]>) -> std::result::Result<Self, sqlx::error::BoxDynError>;
}

/// The bytes of a value that cannot be NULL.
fn not_null(v: Option<&[u8]>) -> std::result::Result<&[u8], sqlx::error::BoxDynError> {
    v.ok_or_else(|| sqlx::error::UnexpectedNullError.into())
}

/// An integer of `N` bytes, big-endian.
fn be<const N: usize>(v: Option<&[u8]>) -> std::result::Result<[u8; N], sqlx::error::BoxDynError> {
    let b = not_null(v)?;
    b.try_into()
        .map_err(|_| format!("expected {N} bytes for an integer, got {}", b.len()).into())
}

impl Raw for i64 {
    fn raw(v: Option<&[u8]>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        be(v).map(i64::from_be_bytes)
    }
}

impl Raw for i32 {
    fn raw(v: Option<&[u8]>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        be(v).map(i32::from_be_bytes)
    }
}

impl Raw for bool {
    fn raw(v: Option<&[u8]>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        be::<1>(v).map(|[b]| b != 0)
    }
}

impl Raw for String {
    fn raw(v: Option<&[u8]>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        Ok(std::str::from_utf8(not_null(v)?)?.to_owned())
    }
}

impl Raw for Vec<u8> {
    fn raw(v: Option<&[u8]>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        not_null(v).map(<[u8]>::to_vec)
    }
}

impl<T: Raw> Raw for Option<T> {
    fn raw(v: Option<&[u8]>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        v.map(|b| T::raw(Some(b))).transpose()
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
