#Requires -Version 7.4
<#
.SYNOPSIS
    Writes the module's MAML help (en-US/SockPS.dll-Help.xml) from the C# XML docs and the help
    sources in module/help.
.DESCRIPTION
    platyPS is not available here, so the build makes the MAML itself. For every cmdlet the module
    exports it takes:
      - synopsis and description from the cmdlet class's XML doc (<para type="synopsis"> and
        <para type="description">, or <summary>);
      - syntax, parameters (type, mandatory, position, pipeline input, aliases, default value) from
        the cmdlet's metadata, and each parameter's description from its property's <summary>;
      - inputs and outputs from the pipeline parameters and [OutputType];
      - examples, notes and related links from module/help/<Verb-Noun>.psd1.
    Anything missing (a cmdlet without a help source, a parameter without a description, fewer
    than two examples) is listed; with -Strict the script fails on it.

    Runs in its own pwsh (it imports the built module): build.ps1 calls it after publishing.
.EXAMPLE
    dotnet pwsh tools/New-MamlHelp.ps1 -ModulePath out/SockPS -HelpSource module/help -Strict
#>
[CmdletBinding()]
param(
    # The built module folder (holds SockPS.psd1, and the builds with their XML doc files in
    # net8.0/ and netstandard2.0/).
    [Parameter(Mandatory)] [string] $ModulePath,
    # The folder of <Verb-Noun>.psd1 help sources.
    [Parameter(Mandatory)] [string] $HelpSource,
    # Where to write the MAML; default <ModulePath>/en-US/SockPS.dll-Help.xml.
    [string] $OutFile,
    # Fail when any cmdlet or parameter lacks help, or a cmdlet has fewer than two examples.
    [switch] $Strict
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$HelpSource = (Resolve-Path -LiteralPath $HelpSource).ProviderPath
if (-not $OutFile) {
    $OutFile = Join-Path -Path $ModulePath -ChildPath 'en-US/SockPS.dll-Help.xml'
}

$module = Import-Module -Name (Join-Path -Path $ModulePath -ChildPath 'SockPS.psd1') -PassThru -Force
$commonParameters = [System.Collections.Generic.HashSet[string]]::new(
    [string[]]([System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters),
    [System.StringComparer]::OrdinalIgnoreCase)

# ---------------------------------------------------------------------------- XML docs

# Beside the SockPS.dll this pwsh loaded (net8.0/): both builds come from the same sources and docs.
$docs = @{}
$assemblyFolder = Split-Path -Path ([SockPS.Commands.ModuleLifecycle].Assembly.Location) -Parent
foreach ($xmlFile in Get-ChildItem -LiteralPath $assemblyFolder -Filter '*.xml' -File) {
    [xml] $doc = Get-Content -LiteralPath $xmlFile.FullName -Raw
    if ($doc.DocumentElement.Name -ne 'doc') { continue }
    foreach ($member in $doc.doc.members.member) {
        $docs[$member.name] = $member
    }
}

function ConvertTo-PlainText([System.Xml.XmlNode] $Node) {
    # XML doc markup to help text: <see cref="T:A.B"/> becomes B, <c>x</c> becomes x,
    # <paramref name="p"/> becomes p; whitespace is folded.
    $text = [System.Text.StringBuilder]::new()
    foreach ($child in $Node.ChildNodes) {
        switch ($child.NodeType) {
            'Text' { [void]$text.Append($child.Value) }
            'Element' {
                switch ($child.LocalName) {
                    'see' {
                        $name = if ($child.HasAttribute('cref')) { $child.GetAttribute('cref') } elseif ($child.HasAttribute('langword')) { $child.GetAttribute('langword') } else { $child.InnerText }
                        [void]$text.Append(($name -replace '^[A-Z]:', '' -replace '\(.*$', '').Split('.')[-1])
                    }
                    'paramref' { [void]$text.Append($child.GetAttribute('name')) }
                    'typeparamref' { [void]$text.Append($child.GetAttribute('name')) }
                    default { [void]$text.Append((ConvertTo-PlainText $child)) }
                }
            }
        }
    }
    ($text.ToString() -replace '\s+', ' ').Trim()
}

function Get-MemberDoc([string] $Key) {
    # The member's doc, following <inheritdoc/> to the base type's member of the same name.
    $member = $docs[$Key]
    if ($null -eq $member) { return $null }
    if ($member.SelectSingleNode('inheritdoc') -and -not $member.SelectSingleNode('summary')) { return $null }
    $member
}

function Get-PropertyDoc([type] $Type, [string] $Name) {
    for ($t = $Type; $null -ne $t; $t = $t.BaseType) {
        $property = $t.GetProperty($Name, [System.Reflection.BindingFlags]'Public, Instance, DeclaredOnly')
        if ($null -eq $property) { continue }
        $member = Get-MemberDoc "P:$($t.FullName).$Name"
        if ($member -and $member.summary) { return ConvertTo-PlainText $member.SelectSingleNode('summary') }
    }
    ''
}

function Get-TypeDoc([type] $Type) {
    $member = Get-MemberDoc "T:$($Type.FullName)"
    $result = @{ Synopsis = ''; Description = @() }
    if ($null -eq $member -or $null -eq $member.SelectSingleNode('summary')) { return $result }
    $summary = $member.SelectSingleNode('summary')
    $paras = @($summary.SelectNodes('para'))
    $synopsis = $paras | Where-Object { $_.GetAttribute('type') -eq 'synopsis' } | Select-Object -First 1
    if ($synopsis) {
        $result.Synopsis = ConvertTo-PlainText $synopsis
        $result.Description = @($paras | Where-Object { $_.GetAttribute('type') -ne 'synopsis' } | ForEach-Object { ConvertTo-PlainText $_ })
    }
    else {
        $result.Synopsis = ConvertTo-PlainText $summary
    }
    $result
}

# ---------------------------------------------------------------------------- MAML writing

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$null = New-Item -ItemType Directory -Path (Split-Path -Path $OutFile -Parent) -Force
$writer = [System.Xml.XmlWriter]::Create($OutFile, $settings)

function Write-Element([string] $Prefix, [string] $Name, [string] $Text) {
    $writer.WriteElementString($Prefix, $Name, $ns[$Prefix], $Text)
}

function Write-Paras([string] $Prefix, [string] $Name, [string[]] $Paragraphs) {
    $writer.WriteStartElement($Prefix, $Name, $ns[$Prefix])
    foreach ($para in $Paragraphs) {
        Write-Element 'maml' 'para' $para
    }
    $writer.WriteEndElement()
}

function Get-TypeName([type] $Type) {
    if ($Type -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    if ($Type.IsArray) { return (Get-TypeName $Type.GetElementType()) + '[]' }
    if ($Type.IsGenericType -and $Type.GetGenericTypeDefinition() -eq [Nullable`1]) { return Get-TypeName $Type.GetGenericArguments()[0] }
    $Type.Name
}

function Get-ParameterUse($Attributes) {
    # What Get-Help shows for a parameter, from its [Parameter] attributes: one attribute for a
    # syntax line (its parameter set), all of them for the PARAMETERS section, where a parameter
    # that takes pipeline input in any set says so (Get-SocketConnection -Server is ByValue in one
    # set only), is required only when every set requires it, and shows its position when every
    # set gives the same one.
    $Attributes = @($Attributes)
    $kinds = @()
    if ($Attributes | Where-Object ValueFromPipeline) { $kinds += 'ByValue' }
    if ($Attributes | Where-Object ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    $positions = @($Attributes | ForEach-Object Position | Select-Object -Unique)
    [pscustomobject]@{
        Required = -not ($Attributes | Where-Object { -not $_.Mandatory })
        Pipeline = if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
        Position = if ($positions.Count -eq 1 -and $positions[0] -ge 0) { [string]$positions[0] } else { 'named' }
    }
}

function Write-Parameter($Parameter, $Use, [string] $Description, [string] $Default, [bool] $InSyntax) {
    $isSwitch = $Parameter.ParameterType -eq [System.Management.Automation.SwitchParameter]
    $wildcards = [bool]($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $writer.WriteStartElement('command', 'parameter', $ns.command)
    $writer.WriteAttributeString('required', ([string]$Use.Required).ToLowerInvariant())
    $writer.WriteAttributeString('variableLength', ([string]$Parameter.ParameterType.IsArray).ToLowerInvariant())
    $writer.WriteAttributeString('globbing', ([string]$wildcards).ToLowerInvariant())
    $writer.WriteAttributeString('pipelineInput', $Use.Pipeline)
    $writer.WriteAttributeString('position', $Use.Position)
    $writer.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
    Write-Element 'maml' 'name' $Parameter.Name
    Write-Paras 'maml' 'description' @($Description)
    $typeName = Get-TypeName $Parameter.ParameterType
    if (-not ($InSyntax -and $isSwitch)) {
        $writer.WriteStartElement('command', 'parameterValue', $ns.command)
        $writer.WriteAttributeString('required', ([string](-not $isSwitch)).ToLowerInvariant())
        $writer.WriteAttributeString('variableLength', ([string]$Parameter.ParameterType.IsArray).ToLowerInvariant())
        $writer.WriteString($typeName)
        $writer.WriteEndElement()
    }
    $writer.WriteStartElement('dev', 'type', $ns.dev)
    Write-Element 'maml' 'name' $typeName
    Write-Element 'maml' 'uri' ''
    $writer.WriteEndElement()
    Write-Element 'dev' 'defaultValue' $Default
    $writer.WriteEndElement()
}

function Get-DefaultText($Instance, $Parameter, $Overrides) {
    # The value a parameter has when it is not given: a help source's ParameterDefaults entry
    # when the property's initial value does not say it (Receive-SocketData -TimeoutSeconds
    # starts at 0 but uses the connection's timeout), otherwise that initial value, written as a
    # user would type it.
    if ($Overrides -is [hashtable] -and $Overrides.ContainsKey($Parameter.Name)) { return [string]$Overrides[$Parameter.Name] }
    if ($Parameter.ParameterType -eq [System.Management.Automation.SwitchParameter]) { return 'False' }
    if ($null -eq $Instance) { return 'None' }
    $value = $Instance.GetType().GetProperty($Parameter.Name).GetValue($Instance)
    if ($null -eq $value) { return 'None' }
    if ($value -is [array]) { if ($value.Count -eq 0) { return 'None' } return ($value -join ', ') }
    # A number left at 0 that the parameter's [ValidateRange] refuses is "not given", not a default.
    $range = $Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] } | Select-Object -First 1
    if ($range -and $value -is [ValueType] -and $value -eq 0 -and $range.MinRange -is [IComparable] -and $range.MinRange -gt 0) { return 'None' }
    # Encodings by the names -Encoding takes (utf8 is UTF-8 without a byte order mark).
    if ($value -is [System.Text.UTF8Encoding]) { return $(if ($value.GetPreamble().Length) { 'utf8BOM' } else { 'utf8' }) }
    if ($value -is [System.Text.Encoding]) { return $value.WebName }
    if ($value -is [string]) {
        # Quoted, with PowerShell escapes, only where the bare text would not show the value.
        if ($value -match '^[\w.:-]+$') { return $value }
        return '"' + ($value -replace "`r", '`r' -replace "`n", '`n' -replace "`t", '`t') + '"'
    }
    [string]$value
}

$problems = [System.Collections.Generic.List[string]]::new()
$sourceKeys = @('Description', 'Examples', 'Inputs', 'Outputs', 'Notes', 'Links', 'ParameterDefaults')
$cmdlets = @(Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object -Property Name)

$writer.WriteStartDocument()
$writer.WriteStartElement('helpItems', 'http://msh')
$writer.WriteAttributeString('schema', 'maml')
foreach ($cmdlet in $cmdlets) {
    $type = $cmdlet.ImplementingType
    $typeDoc = Get-TypeDoc $type
    $sourcePath = Join-Path -Path $HelpSource -ChildPath "$($cmdlet.Name).psd1"
    $source = if (Test-Path -LiteralPath $sourcePath) { Import-PowerShellDataFile -LiteralPath $sourcePath } else { $problems.Add("$($cmdlet.Name): no help source $sourcePath"); @{} }
    # A misspelt key (Example, Note, Link) would drop its content without a word.
    foreach ($key in $source.Keys) {
        if ($key -notin $sourceKeys) { $problems.Add("$($cmdlet.Name).psd1: unknown key '$key'; the keys are $($sourceKeys -join ', ')") }
    }
    if (-not $typeDoc.Synopsis) { $problems.Add("$($cmdlet.Name): no synopsis in the class's XML doc") }
    if (-not $typeDoc.Description) { $problems.Add("$($cmdlet.Name): no description in the class's XML doc") }
    $instance = try { [Activator]::CreateInstance($type) } catch { $null }
    $parameters = @($cmdlet.Parameters.Values | Where-Object { -not $commonParameters.Contains($_.Name) })
    $descriptions = @{}
    $defaults = @{}
    foreach ($parameter in $parameters) {
        $descriptions[$parameter.Name] = Get-PropertyDoc $type $parameter.Name
        if (-not $descriptions[$parameter.Name]) { $problems.Add("$($cmdlet.Name) -$($parameter.Name): no description") }
        $defaults[$parameter.Name] = Get-DefaultText $instance $parameter $source['ParameterDefaults']
    }
    if ($source['ParameterDefaults'] -is [hashtable]) {
        foreach ($name in $source['ParameterDefaults'].Keys) {
            if (-not $cmdlet.Parameters.ContainsKey($name)) { $problems.Add("$($cmdlet.Name).psd1: ParameterDefaults names -$name, which the cmdlet does not have") }
        }
    }

    $writer.WriteStartElement('command', 'command', $ns.command)
    $writer.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $writer.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)

    $writer.WriteStartElement('command', 'details', $ns.command)
    Write-Element 'command' 'name' $cmdlet.Name
    Write-Element 'command' 'verb' $cmdlet.Verb
    Write-Element 'command' 'noun' $cmdlet.Noun
    Write-Paras 'maml' 'description' @($typeDoc.Synopsis)
    $writer.WriteEndElement()

    Write-Paras 'maml' 'description' @($typeDoc.Description + @($source['Description']) | Where-Object { $_ })

    # Syntax: one item per parameter set, mandatory and positional parameters first.
    $writer.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $cmdlet.ParameterSets) {
        $writer.WriteStartElement('command', 'syntaxItem', $ns.command)
        Write-Element 'maml' 'name' $cmdlet.Name
        $inSet = @($set.Parameters | Where-Object { -not $commonParameters.Contains($_.Name) } |
                Sort-Object -Property @{ e = { if ($_.Position -ge 0) { $_.Position } else { 1000 } } }, @{ e = { -not $_.IsMandatory } }, Name)
        foreach ($p in $inSet) {
            $parameter = $cmdlet.Parameters[$p.Name]
            $attribute = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and ($_.ParameterSetName -eq $set.Name -or $_.ParameterSetName -eq '__AllParameterSets') } | Select-Object -First 1
            Write-Parameter $parameter (Get-ParameterUse $attribute) $descriptions[$p.Name] $defaults[$p.Name] $true
        }
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($parameter in $parameters | Sort-Object -Property Name) {
        $attributes = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
        Write-Parameter $parameter (Get-ParameterUse $attributes) $descriptions[$parameter.Name] $defaults[$parameter.Name] $false
    }
    $writer.WriteEndElement()

    # Inputs: the type each ByValue parameter takes from the pipeline (one object at a time, so
    # SocketConnection for a SocketConnection[] parameter), described by the help source's Inputs
    # where it has an entry; Inputs may add types that bind by property name. Outputs: [OutputType].
    $inputTexts = [ordered]@{}
    foreach ($parameter in $parameters) {
        if (-not ($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipeline })) { continue }
        $inputType = if ($parameter.ParameterType.IsArray) { $parameter.ParameterType.GetElementType() } else { $parameter.ParameterType }
        $inputTexts[$inputType.FullName] = @("You can pipe $(Get-TypeName $inputType) objects to -$($parameter.Name).")
    }
    if ($source['Inputs'] -is [hashtable]) {
        foreach ($name in $source['Inputs'].Keys) { $inputTexts[$name] = @($source['Inputs'][$name]) }
    }
    if (-not $inputTexts.Count) {
        # Name the parameters that bind by property name, if any: a cmdlet without them takes no
        # pipeline input at all, and should not say it has some.
        $byName = @($parameters | Where-Object { $_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipelineByPropertyName } } |
                ForEach-Object { "-$($_.Name)" } | Sort-Object)
        $names = if ($byName.Count -gt 1) { ($byName[0..($byName.Count - 2)] -join ', ') + ' and ' + $byName[-1] } else { $byName }
        $inputTexts['None'] = @($(if ($byName) { "This cmdlet takes no pipeline input by value; $names bind from the properties of piped objects with those names." } else { 'This cmdlet takes no pipeline input.' }))
    }
    $writer.WriteStartElement('command', 'inputTypes', $ns.command)
    foreach ($name in $inputTexts.Keys) {
        $writer.WriteStartElement('command', 'inputType', $ns.command)
        $writer.WriteStartElement('dev', 'type', $ns.dev); Write-Element 'maml' 'name' $name; $writer.WriteEndElement()
        Write-Paras 'maml' 'description' $inputTexts[$name]
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'returnValues', $ns.command)
    $outputs = @($cmdlet.OutputType | ForEach-Object Name | Select-Object -Unique)
    if (-not $outputs) { $outputs = @('None') }
    $outputSource = if ($source['Outputs'] -is [hashtable]) { $source['Outputs'] } else { @{} }
    foreach ($name in $outputSource.Keys) {
        if ($name -notin $outputs) { $problems.Add("$($cmdlet.Name).psd1: Outputs describes $name, which is not in the cmdlet's [OutputType] ($($outputs -join ', '))") }
    }
    foreach ($output in $outputs) {
        $writer.WriteStartElement('command', 'returnValue', $ns.command)
        $writer.WriteStartElement('dev', 'type', $ns.dev); Write-Element 'maml' 'name' $output; $writer.WriteEndElement()
        if (-not $outputSource[$output]) { $problems.Add("$($cmdlet.Name): no description of the output type $output") }
        Write-Paras 'maml' 'description' @($outputSource[$output])
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $notes = @($source['Notes'] | Where-Object { $_ })
    if ($notes) {
        $writer.WriteStartElement('maml', 'alertSet', $ns.maml)
        $writer.WriteStartElement('maml', 'alert', $ns.maml)
        foreach ($note in $notes) { Write-Element 'maml' 'para' $note }
        $writer.WriteEndElement()
        $writer.WriteEndElement()
    }

    $examples = @($source['Examples'] | Where-Object { $_ })
    if ($examples.Count -lt 2) { $problems.Add("$($cmdlet.Name): $($examples.Count) example(s); at least two are needed") }
    $writer.WriteStartElement('command', 'examples', $ns.command)
    $number = 0
    foreach ($example in $examples) {
        $number++
        foreach ($key in 'Title', 'Code', 'Remarks') {
            if (-not $example[$key]) { $problems.Add("$($cmdlet.Name) example $($number): no $key") }
        }
        $writer.WriteStartElement('command', 'example', $ns.command)
        # Get-Help indents the title by 4 and does not shorten it: with 26 dashes on each side
        # (what the generator wrote before) any title past 20 characters broke into two lines in
        # an 80-column console. Nine on each side is what Microsoft's own help uses.
        Write-Element 'maml' 'title' "--------- Example $($number): $($example['Title']) ---------"
        # Code first, then what it prints, as a session shows them. Line ends are LF whatever the
        # help source was saved with, and trailing blanks go (they wrap lines for nothing).
        $code = (([string]$example['Code']) -replace "`r`n", "`n" -replace '[ \t]+(?=\n|$)', '').TrimEnd()
        if ($example['Output']) { $code += "`n`n" + ((([string]$example['Output']) -replace "`r`n", "`n" -replace '[ \t]+(?=\n|$)', '').Trim("`n")) }
        Write-Element 'dev' 'code' $code
        # A blank paragraph last, so the next example's title does not follow the remarks on the
        # very next line.
        $remarks = @(([string]$example['Remarks']) -split "`r?`n[ \t]*`r?`n" | ForEach-Object { ($_ -replace '\s+', ' ').Trim() } | Where-Object { $_ })
        Write-Paras 'dev' 'remarks' @($remarks + '')
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $links = @($source['Links'] | Where-Object { $_ })
    if (-not $links) { $problems.Add("$($cmdlet.Name): no related links") }
    foreach ($link in $links) {
        if ($link -notmatch '^(https?://|about_)' -and -not (Get-Command -Name $link -ErrorAction Ignore)) {
            $problems.Add("$($cmdlet.Name).psd1: the link '$link' is no command, about_ topic or https:// address")
        }
    }
    $writer.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $links) {
        $writer.WriteStartElement('maml', 'navigationLink', $ns.maml)
        if ($link -match '^https?://') { Write-Element 'maml' 'linkText' $link; Write-Element 'maml' 'uri' $link }
        else { Write-Element 'maml' 'linkText' $link; Write-Element 'maml' 'uri' '' }
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteEndElement() # command:command
}
$writer.WriteEndElement()
$writer.WriteEndDocument()
$writer.Dispose()

# Help sources for cmdlets that do not exist are mistakes too (a rename left one behind).
foreach ($file in Get-ChildItem -LiteralPath $HelpSource -Filter '*.psd1' -File) {
    if ($file.BaseName -notin $cmdlets.Name) { $problems.Add("$($file.Name): no such cmdlet in the module") }
}

Write-Host "Wrote help for $($cmdlets.Count) cmdlets to $OutFile"
if ($problems.Count) {
    $problems | ForEach-Object { Write-Warning "Help: $_" }
    if ($Strict) {
        throw "$($problems.Count) help problem(s); see the warnings above."
    }
}
