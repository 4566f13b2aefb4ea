#!/usr/bin/env bash
# Compiles and lints every Bicep file of infra/ with the Bicep CLI, which it takes from NuGet
# (Azure.Bicep.CommandLine.<rid>, restored through a throwaway project, so only the .NET SDK and a NuGet feed are
# needed; set BICEP to use another bicep binary). infra/bicepconfig.json sets the linter rules.
# Exits non-zero on any error or warning. use-recent-api-versions is the exception: it depends on today's date, so it
# is printed as a reminder to move an API version forward, never a failure.
set -euo pipefail
cd "$(dirname "$0")"

version=0.49.2
if [ -z "${BICEP:-}" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) rid=linux-x64 ;;
    Linux-aarch64) rid=linux-arm64 ;;
    Darwin-x86_64) rid=osx-x64 ;;
    Darwin-arm64) rid=osx-arm64 ;;
    *) echo "validate: no Bicep CLI package for $(uname -s)-$(uname -m); set BICEP to a bicep binary" >&2; exit 1 ;;
  esac
  packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
  BICEP="$packages/azure.bicep.commandline.$rid/$version/tools/bicep"
  if [ ! -x "$BICEP" ]; then
    echo "validate: restoring Azure.Bicep.CommandLine.$rid $version from NuGet"
    project=$(mktemp -d)
    cat > "$project/bicep.csproj" <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Azure.Bicep.CommandLine.$rid" Version="[$version]" />
  </ItemGroup>
</Project>
PROJECT
    dotnet restore "$project/bicep.csproj" --nologo -v quiet
    rm -rf "$project"
    chmod +x "$BICEP"
  fi
fi
"$BICEP" --version

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0
for file in main.bicep modules/*.bicep; do
  # build compiles (type checks included) and runs the linter; lint alone would repeat the linter's findings.
  if ! "$BICEP" build "$file" --outdir "$out/$(dirname "$file")" 2> "$out/diagnostics.txt"; then
    failed=1
  fi
  if grep -v 'use-recent-api-versions' "$out/diagnostics.txt" | grep -qE ' : (Error|Warning) '; then
    failed=1
  fi
  if [ -s "$out/diagnostics.txt" ]; then
    sed "s#^$PWD/#infra/#" "$out/diagnostics.txt"
  fi
  echo "validate: $file"
done
if [ "$failed" -ne 0 ]; then
  echo "validate: FAILED: Bicep errors or warnings above" >&2
  exit 1
fi
echo "validate: every Bicep file compiles with no error or warning"
