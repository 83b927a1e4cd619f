//! IndexedDB. `ringside-calls` keeps the call history (`history`, key: the
//! call's id, value: `ringside_core::history::Entry` as JSON text) and, in
//! its `meta`, whose history it is and the call desk kept across browser
//! restarts (`ringside_core::worker::desk_store`).
//!
//! `ringside-contacts` is the local contact store: the `contacts` object store (key:
//! the contact's id, value: `ringside_core::contacts::StoredContact` as JSON
//! text) and `meta` (each source's sync state, and whose contacts these
//! are, as JSON text: the serde_json the worker uses everywhere, and a value
//! an older or newer Ringside reads with serde's defaults). Non-secret data
//! only: never a token. Each sync page is written in one transaction.

use std::cell::RefCell;

use ringside_core::contacts::StoredContact;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

use crate::error::JsError;

const VERSION: u32 = 1;
pub const CONTACTS: &str = "contacts";
pub const META: &str = "meta";
pub const HISTORY: &str = "history";

/// The two databases, each with its records' store and `meta`.
#[derive(Clone, Copy)]
pub enum Db {
    Contacts,
    Calls,
}

impl Db {
    fn name(self) -> &'static str {
        match self {
            Db::Contacts => "ringside-contacts",
            Db::Calls => "ringside-calls",
        }
    }

    fn records(self) -> &'static str {
        match self {
            Db::Contacts => CONTACTS,
            Db::Calls => HISTORY,
        }
    }
}

thread_local! {
    static OPEN: RefCell<[Option<IdbDatabase>; 2]> = const { RefCell::new([None, None]) };
}

fn failed(what: &str) -> JsValue {
    JsValue::from_str(&format!("IndexedDB: {what} failed"))
}

/// Waits for a request's success (its result) or error.
async fn request(req: &IdbRequest) -> Result<JsValue, JsError> {
    let req2 = req.clone();
    let p = js_sys::Promise::new(&mut |resolve, reject| {
        let r = req2.clone();
        let ok = Closure::once_into_js(move |_e: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &r.result().unwrap_or(JsValue::UNDEFINED));
        });
        let err = Closure::once_into_js(move |_e: JsValue| {
            let _ = reject.call1(&JsValue::NULL, &failed("a request"));
        });
        req2.set_onsuccess(Some(ok.unchecked_ref()));
        req2.set_onerror(Some(err.unchecked_ref()));
    });
    Ok(JsFuture::from(p).await?)
}

/// Waits for a transaction to commit.
async fn committed(tx: &IdbTransaction) -> Result<(), JsError> {
    let tx2 = tx.clone();
    let p = js_sys::Promise::new(&mut |resolve, reject| {
        let done = Closure::once_into_js(move |_e: JsValue| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let reject2 = reject.clone();
        let err = Closure::once_into_js(move |_e: JsValue| {
            let _ = reject.call1(&JsValue::NULL, &failed("a transaction"));
        });
        let abort = Closure::once_into_js(move |_e: JsValue| {
            let _ = reject2.call1(&JsValue::NULL, &failed("a transaction (aborted)"));
        });
        tx2.set_oncomplete(Some(done.unchecked_ref()));
        tx2.set_onerror(Some(err.unchecked_ref()));
        tx2.set_onabort(Some(abort.unchecked_ref()));
    });
    JsFuture::from(p).await?;
    Ok(())
}

async fn db() -> Result<IdbDatabase, JsError> {
    db_of(Db::Contacts).await
}

async fn db_of(which: Db) -> Result<IdbDatabase, JsError> {
    if let Some(d) = OPEN.with(|o| o.borrow()[which as usize].clone()) {
        return Ok(d);
    }
    let records = which.records();
    let factory = js_sys::global()
        .dyn_into::<web_sys::WorkerGlobalScope>()
        .map_err(|_| JsError("not a worker".into()))?
        .indexed_db()?
        .ok_or_else(|| JsError("IndexedDB is not available".into()))?;
    let open = factory.open_with_u32(which.name(), VERSION)?;
    let upgrade = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let Some(db) = e
            .dyn_into::<web_sys::Event>()
            .ok()
            .and_then(|e| e.target())
            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|r| r.dyn_into::<IdbDatabase>().ok())
        else {
            return;
        };
        let names = db.object_store_names();
        if !names.contains(records) {
            let _ = db.create_object_store(records);
        }
        if !names.contains(META) {
            let _ = db.create_object_store(META);
        }
    });
    open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let d: IdbDatabase = request(&open)
        .await?
        .dyn_into()
        .map_err(|_| JsError("IndexedDB: open".into()))?;
    drop(upgrade);
    OPEN.with(|o| o.borrow_mut()[which as usize] = Some(d.clone()));
    Ok(d)
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    Ok(JsValue::from_str(&serde_json::to_string(v)?))
}

fn from_js<T: DeserializeOwned>(v: &JsValue) -> Option<T> {
    serde_json::from_str(&v.as_string()?).ok()
}

/// Every value of a store (unreadable ones are skipped).
pub async fn all<T: DeserializeOwned>(store: &str) -> Result<Vec<T>, JsError> {
    let d = db().await?;
    let tx = d.transaction_with_str(store)?;
    let values = request(&tx.object_store(store)?.get_all()?).await?;
    let arr: js_sys::Array = values
        .dyn_into()
        .map_err(|_| JsError("IndexedDB: getAll".into()))?;
    Ok(arr.iter().filter_map(|v| from_js(&v)).collect())
}

/// One value of `meta`.
pub async fn meta<T: DeserializeOwned>(key: &str) -> Result<Option<T>, JsError> {
    let d = db().await?;
    let tx = d.transaction_with_str(META)?;
    let v = request(&tx.object_store(META)?.get(&JsValue::from_str(key))?).await?;
    Ok(from_js(&v))
}

/// Puts (by id), deletes and meta values in one transaction.
pub async fn write<M: Serialize>(
    puts: &[StoredContact],
    deletes: &[String],
    metas: &[(&str, M)],
) -> Result<(), JsError> {
    let d = db().await?;
    let names = js_sys::Array::of2(&JsValue::from_str(CONTACTS), &JsValue::from_str(META));
    let tx = d.transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)?;
    let contacts = tx.object_store(CONTACTS)?;
    for c in puts {
        contacts.put_with_key(&to_js(c)?, &JsValue::from_str(&c.id))?;
    }
    for id in deletes {
        contacts.delete(&JsValue::from_str(id))?;
    }
    let meta = tx.object_store(META)?;
    for (k, v) in metas {
        meta.put_with_key(&to_js(v)?, &JsValue::from_str(k))?;
    }
    committed(&tx).await
}

/// Empties both stores (sign-out, or another agent signed in).
pub async fn clear() -> Result<(), JsError> {
    let d = db().await?;
    let names = js_sys::Array::of2(&JsValue::from_str(CONTACTS), &JsValue::from_str(META));
    let tx = d.transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)?;
    tx.object_store(CONTACTS)?.clear()?;
    tx.object_store(META)?.clear()?;
    committed(&tx).await
}

// ------------------------------------------------ the calls database
// Values are text the caller made (JSON, or the owner as is): one encoder
// and decoder per type in the worker's wasm, not one per store.

/// Every history entry's text.
pub async fn calls_all() -> Result<Vec<String>, JsError> {
    let d = db_of(Db::Calls).await?;
    let tx = d.transaction_with_str(HISTORY)?;
    let values = request(&tx.object_store(HISTORY)?.get_all()?).await?;
    let arr: js_sys::Array = values
        .dyn_into()
        .map_err(|_| JsError("IndexedDB: getAll".into()))?;
    Ok(arr.iter().filter_map(|v| v.as_string()).collect())
}

/// One text of the calls database's `meta`.
pub async fn calls_meta(key: &str) -> Result<Option<String>, JsError> {
    let d = db_of(Db::Calls).await?;
    let tx = d.transaction_with_str(META)?;
    let v = request(&tx.object_store(META)?.get(&JsValue::from_str(key))?).await?;
    Ok(v.as_string())
}

/// Puts (id, text) and deletes history entries and puts meta texts, in one
/// transaction; `clear` first empties the history (another agent's).
pub async fn calls_write(
    clear: bool,
    puts: &[(String, String)],
    deletes: &[String],
    metas: &[(&str, String)],
) -> Result<(), JsError> {
    let d = db_of(Db::Calls).await?;
    let names = js_sys::Array::of2(&JsValue::from_str(HISTORY), &JsValue::from_str(META));
    let tx = d.transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)?;
    let history = tx.object_store(HISTORY)?;
    if clear {
        history.clear()?;
    }
    for (id, v) in puts {
        history.put_with_key(&JsValue::from_str(v), &JsValue::from_str(id))?;
    }
    for id in deletes {
        history.delete(&JsValue::from_str(id))?;
    }
    let meta = tx.object_store(META)?;
    for (k, v) in metas {
        meta.put_with_key(&JsValue::from_str(v), &JsValue::from_str(k))?;
    }
    committed(&tx).await
}
