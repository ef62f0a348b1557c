//! `weir:filter/secrets`: named secrets granted to the filter. Values come
//! from the environment or files when the config generation loads, never
//! from the config file itself.

use super::HostState;
use crate::bindings::weir::filter::secrets;

impl secrets::Host for HostState {
    fn get(&mut self, name: String) -> Result<Vec<u8>, String> {
        match self
            .capabilities
            .secrets
            .as_ref()
            .and_then(|m| m.get(&name))
        {
            Some(value) => Ok(value.to_vec()),
            None => Err(format!(
                "secret {name:?} is not granted to filter {:?} (grants.secrets)",
                &*self.filter_name
            )),
        }
    }
}
