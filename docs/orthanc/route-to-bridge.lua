-- Dental AI Bridge: Orthanc forwards each radiograph a practice's imaging software sends to that
-- practice's bridge. Install with "LuaScripts" in orthanc.json; the routes are in orthanc.json too:
--   "DentalBridgeRoutes" : { "<calling AE title of the sender>" : "<DicomModalities name of the bridge>" }
-- Only instances received over DICOM from a listed sender are forwarded: what the bridges send
-- back (their AE titles are not listed) and uploads through the REST API stay in Orthanc.
-- See docs/deployment.md.

NOT_IMAGES = { PR = true, SR = true, KO = true, DOC = true }  -- the bridge's receiver takes images only

function OnStoredInstance(instanceId, tags, metadata, origin)
  if origin['RequestOrigin'] ~= 'DicomProtocol' then
    return
  end
  local routes = GetOrthancConfiguration()['DentalBridgeRoutes'] or {}
  local bridge = routes[origin['RemoteAet']]
  if bridge == nil or NOT_IMAGES[tags['Modality']] then
    return
  end
  SendToModality(instanceId, bridge)
end
