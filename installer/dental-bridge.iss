; Inno Setup 6 script: per-user install of the PyInstaller one-folder build.
; Build (from the repository root, after `pyinstaller --noconfirm build.spec`):
;   iscc /DAppVersion=0.1.0 installer\dental-bridge.iss      ->  installer\Output\DentalAIBridge-0.1.0-setup.exe
; - No administrator rights: {autopf} = %LOCALAPPDATA%\Programs, HKA = HKCU.
; - Start at login = one HKCU Run value (never also a Startup shortcut); the app's own setting
;   (tray_app/autostart.py) writes the same value, and uninstall removes it.
; - AppMutex = the app's single-instance mutex: setup and uninstall wait while the app runs.
; - Uninstall removes caches and logs; it ASKS before deleting the database and audit log
;   (%LOCALAPPDATA%\DentalAIBridge) and the Open Dental keys in the Credential Manager.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Dental AI Bridge"
#define AppExe "DentalAIBridge.exe"
#define AppDirName "DentalAIBridge"
#define RunValue "DentalAIBridge"
#define CredTarget "DentalAIBridge/opendental"

[Setup]
AppId={{7B0E4C2A-5D1E-4C55-9F0B-3C1D2D7A9E11}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Dental AI Bridge
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppDirName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
OutputDir=Output
OutputBaseFilename=DentalAIBridge-{#AppVersion}-setup
SetupIconFile=..\resources\icons\app.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
AppMutex=DentalAIBridge.SingleInstance
CloseApplications=yes
RestartApplications=no
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
; sign both setup and uninstaller when a certificate is configured (see docs/building.md):
;   iscc /DSign "/Ssigntool=signtool sign /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 $p" ...
#ifdef Sign
SignTool=signtool
SignedUninstaller=yes
#endif

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "autostart"; Description: "Start {#AppName} when I sign in to Windows"; GroupDescription: "Start-up:"; Flags: checkedonce
Name: "desktopicon"; Description: "Create a desktop shortcut"; GroupDescription: "Shortcuts:"; Flags: unchecked

[Files]
Source: "..\dist\DentalAIBridge\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[InstallDelete]
; an upgrade replaces the bundle completely (stale libraries from an older build must not linger)
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Review AI findings on radiographs"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; HKCU Run value only (never also a Startup shortcut); removed on uninstall in any case (see [Code])
Root: HKA; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "{#RunValue}"; ValueData: """{app}\{#AppExe}"""; Flags: uninsdeletevalue; Tasks: autostart

[Run]
Filename: "{app}\{#AppExe}"; Description: "Start {#AppName} now"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; caches and logs are the app's own and can always go (platformdirs: %LOCALAPPDATA%\DentalAIBridge\Cache, \Logs)
Type: filesandordirs; Name: "{localappdata}\{#AppDirName}\Cache"
Type: filesandordirs; Name: "{localappdata}\{#AppDirName}\Logs"

[Code]
const
  RunKey = 'Software\Microsoft\Windows\CurrentVersion\Run';

function CredDeleteW(TargetName: String; CredType: Cardinal; Flags: Cardinal): Integer;
  external 'CredDeleteW@advapi32.dll stdcall';

procedure DeleteCredential(Target: String);
begin
  { CRED_TYPE_GENERIC = 1; keyring's WinVaultKeyring stores "service" or "user@service" targets }
  CredDeleteW(Target, 1, 0);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  DataDir: String;
begin
  if CurUninstallStep = usUninstall then
  begin
    { the app's own "start at login" setting writes the same value even if the task was not chosen }
    RegDeleteValue(HKEY_CURRENT_USER, RunKey, '{#RunValue}');
  end;
  if CurUninstallStep = usPostUninstall then
  begin
    DataDir := ExpandConstant('{localappdata}\{#AppDirName}');
    if DirExists(DataDir) and not UninstallSilent() then
    begin
      if MsgBox('Also delete the Dental AI Bridge database, the audit log and the signed reports?' + #13#10 + #13#10 +
                DataDir + #13#10 + #13#10 +
                'Keep them if the practice may need the records later (the audit log is the record of who ' +
                'reviewed and signed what), or if you are reinstalling.',
                mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
        DelTree(DataDir, True, True, True);
    end;
    if not UninstallSilent() then
    begin
      if MsgBox('Remove the Open Dental API keys stored in the Windows Credential Manager for Dental AI Bridge?',
                mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
      begin
        DeleteCredential('{#CredTarget}');
        DeleteCredential('DeveloperKey@{#CredTarget}');
        DeleteCredential('CustomerKey@{#CredTarget}');
      end;
    end;
  end;
end;
