; Inno Setup script: per-user install, optional start at login (first version; the tray
; issue completes it). Build after `pyinstaller build.spec`: iscc installer\dental-bridge.iss
#define AppName "Dental AI Bridge"
#define AppExe "DentalAIBridge.exe"
#define AppVersion "0.1.0"

[Setup]
AppId={{7B0E4C2A-5D1E-4C55-9F0B-3C1D2D7A9E11}
AppName={#AppName}
AppVersion={#AppVersion}
DefaultDirName={autopf}\DentalAIBridge
PrivilegesRequired=lowest
DisableProgramGroupPage=yes
OutputBaseFilename=DentalAIBridge-{#AppVersion}-setup
AppMutex=DentalAIBridge.SingleInstance
Compression=lzma2
SolidCompression=yes

[Tasks]
Name: "autostart"; Description: "Start {#AppName} when I sign in"; Flags: checkedonce

[Files]
Source: "..\dist\DentalAIBridge\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"

[Registry]
; HKCU Run value only (never also a Startup shortcut), removed on uninstall
Root: HKA; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "DentalAIBridge"; ValueData: """{app}\{#AppExe}"""; Flags: uninsdeletevalue; Tasks: autostart

[Run]
Filename: "{app}\{#AppExe}"; Description: "Start {#AppName} now"; Flags: nowait postinstall skipifsilent
