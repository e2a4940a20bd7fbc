using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using SockPS.Commands;
using Xunit;

namespace SockPS.Tests;

/// <summary>
/// The two builds in the module folder. Every other test runs the net8.0 build; nothing here can
/// run Windows PowerShell, so the netstandard2.0 build is read as .NET Framework 4.7.2 would load
/// it: every assembly it asks for must be in the framework or shipped beside it, and every type
/// and member it uses must exist in 4.7.2's reference assemblies (through 4.7.2's netstandard
/// facade), in PowerShellStandard's System.Management.Automation (what 5.1 has) or in the DLLs
/// shipped with it.
/// </summary>
public sealed class EditionTests
{
    private static readonly string[] s_ourAssemblies = { "SockPS.dll", "SockPS.Core.dll" };

    private static string ModuleFolder => Path.GetDirectoryName(PowerShellHost.ModulePath)!;

    private static string DesktopFolder => Path.Combine(ModuleFolder, "netstandard2.0");

    private static string CoreFolder => Path.Combine(ModuleFolder, "net8.0");

    private static string Net472Folder => BuildPath("Net472ReferenceAssemblies");

    private static string PowerShellStandardFolder => BuildPath("PowerShellStandardAssemblies");

    [Theory]
    [InlineData("net8.0", ".NETCoreApp,Version=v8.0")]
    [InlineData("netstandard2.0", ".NETStandard,Version=v2.0")]
    public void EachBuildFolderHoldsThatFrameworksAssemblies(string folder, string framework)
    {
        foreach (string name in s_ourAssemblies)
        {
            string path = Path.Combine(ModuleFolder, folder, name);
            Assert.True(File.Exists(path), $"{path} is missing");
            using PEReader pe = new(File.OpenRead(path));
            Assert.Equal(framework, TargetFramework(pe.GetMetadataReader()));
        }
    }

    [Fact]
    public void TheCoreBuildReferencesNoPackageThatPowerShellCouldLoadInAnotherVersion()
    {
        // net8.0 takes Channels and Text.Json from the framework; Pipelines 8.0 is shipped and
        // PowerShell 7.6's own 10.0 copy satisfies the reference. Nothing may ask for more than 8.0.
        foreach (string name in s_ourAssemblies)
        {
            using PEReader pe = new(File.OpenRead(Path.Combine(CoreFolder, name)));
            MetadataReader reader = pe.GetMetadataReader();
            foreach (AssemblyName reference in References(reader))
            {
                Assert.NotEqual("netstandard", reference.Name);
                if (reference.Name is "System.IO.Pipelines" or "System.Threading.Channels" or "System.Text.Json")
                {
                    Assert.True(reference.Version! < new Version(9, 0), $"{name} asks for {reference}");
                }
            }
        }

        Assert.Equal(new Version(8, 0, 0, 0), AssemblyName.GetAssemblyName(Path.Combine(CoreFolder, "System.IO.Pipelines.dll")).Version);
        Assert.False(File.Exists(Path.Combine(CoreFolder, "System.Threading.Channels.dll")), "Channels comes from the framework");
    }

    [Fact]
    public void EveryAssemblyTheDesktopBuildAsksForIsInNetFramework472OrShippedBesideIt()
    {
        Dictionary<string, Version> framework = FrameworkAssemblies();
        List<string> problems = new();
        foreach (string path in Directory.GetFiles(DesktopFolder, "*.dll"))
        {
            using PEReader pe = new(File.OpenRead(path));
            foreach (AssemblyName reference in References(pe.GetMetadataReader()))
            {
                string who = $"{Path.GetFileName(path)} asks for {reference.FullName}";
                if (reference.Name == "System.Management.Automation")
                {
                    // Windows PowerShell 5.1's is 3.0.0.0.
                    if (reference.Version! > new Version(3, 0, 0, 0))
                    {
                        problems.Add(who + ", newer than Windows PowerShell 5.1's 3.0.0.0");
                    }
                }
                else if (AssemblyBinding.FindShipped(DesktopFolder, reference) is null
                    && !(framework.TryGetValue(reference.Name!, out Version? version) && version >= reference.Version!))
                {
                    problems.Add(who + ", which is neither in .NET Framework 4.7.2 nor shipped in netstandard2.0/ in that version or newer");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public void AnAskedForVersionIsMetOnlyByTheSameOrANewerDllWithTheSameKey()
    {
        // What Windows PowerShell 5.1 binds through AssemblyBinding when an exact bind fails.
        string buffers = Path.Combine(DesktopFolder, "System.Buffers.dll");
        Version shipped = AssemblyName.GetAssemblyName(buffers).Version!;
        Assert.Equal(new Version(4, 0, 3, 0), shipped);

        Assert.Equal(buffers, AssemblyBinding.FindShipped(DesktopFolder, new AssemblyName("System.Buffers, Version=4.0.2.0, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51")));
        Assert.Null(AssemblyBinding.FindShipped(DesktopFolder, new AssemblyName("System.Buffers, Version=4.0.4.0, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51")));
        Assert.Null(AssemblyBinding.FindShipped(DesktopFolder, new AssemblyName("System.Buffers, Version=4.0.2.0, Culture=neutral, PublicKeyToken=0123456789abcdef")));
        Assert.Null(AssemblyBinding.FindShipped(DesktopFolder, new AssemblyName("System.Text.Json, Version=8.0.0.0, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51")));
    }

    [Fact]
    public void EveryTypeAndMemberTheDesktopBuildUsesExistsInNetFramework472()
    {
        List<string> paths = new();
        paths.AddRange(Directory.GetFiles(Net472Folder, "*.dll"));
        paths.AddRange(Directory.GetFiles(Path.Combine(Net472Folder, "Facades"), "*.dll"));
        paths.Add(Path.Combine(PowerShellStandardFolder, "System.Management.Automation.dll"));
        paths.AddRange(Directory.GetFiles(DesktopFolder, "*.dll"));
        using MetadataLoadContext context = new(new PathAssemblyResolver(paths), coreAssemblyName: "mscorlib");

        List<string> problems = new();
        int checkedMembers = 0;
        foreach (string name in s_ourAssemblies)
        {
            using PEReader pe = new(File.OpenRead(Path.Combine(DesktopFolder, name)));
            MetadataReader reader = pe.GetMetadataReader();
            NetFrameworkCheck check = new(reader, context, name, problems);
            checkedMembers += check.Run();
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        // Guards against a check that looked at nothing.
        Assert.True(checkedMembers > 500, $"only {checkedMembers} member references were checked");
    }

    [Fact]
    public void TheDesktopBuildsJsonReaderGivesTheSameFieldsAsSystemTextJson()
    {
        string[] lines =
        {
            "{}",
            "{\"a\":1,\"b\":\"x\\\"y\\\\z\\u00e9\",\"c\":true,\"d\":null}",
            " { \"a\" : -1.5e2 } ",
            "{\"ConnectionId\":3,\"Sequence\":12,\"Timestamp\":\"2026-01-02T03:04:05.678Z\",\"Direction\":\"Sent\",\"Data\":\"aGk=\"}",
            "{\"a\":1,\"a\":2}",
            "{\"tab\":\"\\t\\n\\/\"}",
            "{\"a\":1", "{\"a\":[1]}", "{\"a\":{}}", "{\"a\":1} x", "{'a':1}", "", "[1]", "{\"a\":tru}",
            "{\"a\":\"\\ud800\"}", "{\"a\":\"\\ud83d\\ude00\"}",
        };
        using DesktopCore desktop = new();
        MethodInfo parse = desktop.Type("SockPS.Core.JsonText").GetMethod("TryParseFlatObject", BindingFlags.Public | BindingFlags.Static)!;

        foreach (string line in lines)
        {
            Dictionary<string, object?>? expected = SockPS.Core.JsonText.TryParseFlatObject(line);
            var actual = (Dictionary<string, object?>?)parse.Invoke(null, new object[] { line });
            Assert.True(expected is null == actual is null, $"{line}: System.Text.Json {(expected is null ? "refuses" : "takes")} it, the netstandard2.0 reader does not");
            if (expected is not null)
            {
                Assert.Equal(expected.OrderBy(f => f.Key), actual!.OrderBy(f => f.Key));
            }
        }
    }

    [Fact]
    public void TheDesktopBuildSaysNotSupportedForUnixSocketsAndPemKeys()
    {
        using DesktopCore desktop = new();
        Type unix = desktop.Type("SockPS.Core.UnixSockets");
        Assert.False((bool)unix.GetProperty("IsSupported")!.GetValue(null)!);
        Exception unixError = desktop.Throws(() => unix.GetMethod("CreateEndPoint")!.Invoke(null, new object[] { "/tmp/sockps-never.sock" }));
        Assert.Contains("Windows PowerShell 5.1 has no Unix sockets", unixError.Message);

        string folder = Directory.CreateTempSubdirectory("sockps-edition-").FullName;
        try
        {
            string certificate = Path.Combine(folder, "cert.pem");
            string key = Path.Combine(folder, "key.pem");
            File.WriteAllText(certificate, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
            File.WriteAllText(key, "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n");
            MethodInfo load = desktop.Type("SockPS.Core.TlsCertificates").GetMethod("LoadWithKey")!;
            Exception pemError = desktop.Throws(() => load.Invoke(null, new object?[] { certificate, null, key }));
            Assert.Contains("PFX", pemError.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void TheDesktopBuildSaysNotSupportedForWebSocket()
    {
        // Issue 15: .NET Framework has no WebSocket.CreateFromStream, so ws://, wss:// and
        // Start-SocketServer -WebSocket stop with NotSupported there, before connecting.
        using DesktopCore desktop = new();
        Type webSockets = desktop.Type("SockPS.Core.WebSockets");
        Assert.False((bool)webSockets.GetField("Supported", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!);
        MethodInfo check = webSockets.GetMethod("ThrowIfUnsupported", BindingFlags.NonPublic | BindingFlags.Static)!;
        Exception error = desktop.Throws(() => check.Invoke(null, new object?[] { "localhost:80" }));
        Assert.Contains("PowerShell 7.4 or later", error.Message);

        Type core = typeof(SockPS.Core.SocketConnection).Assembly.GetType("SockPS.Core.WebSockets", throwOnError: true)!;
        Assert.True((bool)core.GetField("Supported", BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!);
    }

    [Fact]
    public void TheDesktopBuildSaysNotSupportedForAlpnAndCipherSuitesAndPinsAsTheCoreBuildDoes()
    {
        // Issue 14: ALPN and cipher suite lists need .NET Core APIs; pins and the DER reading
        // behind them must work the same in Windows PowerShell 5.1.
        using DesktopCore desktop = new();
        Type negotiation = desktop.Type("SockPS.Core.TlsNegotiation");
        MethodInfo validate = negotiation.GetMethod("Validate")!;
        Exception alpn = desktop.Throws(() => validate.Invoke(null, new object?[] { new[] { "h2" }, null }));
        Assert.Contains("ALPN (application protocol negotiation) needs PowerShell 7.4 or later", alpn.Message);
        Exception suites = desktop.Throws(() => validate.Invoke(null, new object?[] { null, new[] { "TLS_AES_128_GCM_SHA256" } }));
        Assert.Contains("cipher suites of one connection needs PowerShell 7.4 or later", suites.Message);
        validate.Invoke(null, new object?[] { null, null });
        Assert.Empty((string[])negotiation.GetProperty("KnownCipherSuites")!.GetValue(null)!);
        Assert.False((bool)negotiation.GetMethod("TryTrustOnly")!.Invoke(null, new object[] { new System.Security.Cryptography.X509Certificates.X509Chain().ChainPolicy, new System.Security.Cryptography.X509Certificates.X509Certificate2Collection() })!);

        using System.Security.Cryptography.ECDsa key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        System.Security.Cryptography.X509Certificates.CertificateRequest request = new("CN=pin.test", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string pin = "sha256//" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo()));
        Type pins = desktop.Type("SockPS.Core.CertificatePins");
        object parsed = pins.GetMethod("Parse")!.Invoke(null, new object?[] { null, new[] { pin } })!;
        Assert.True((bool)pins.GetMethod("Matches")!.Invoke(parsed, new object[] { certificate })!);
    }

    private static string BuildPath(string key)
    {
        string path = typeof(EditionTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        Assert.True(Directory.Exists(path), $"{path} ({key}) does not exist: restore tests/SockPS.Tests");
        return path;
    }

    private static Dictionary<string, Version> FrameworkAssemblies()
    {
        Dictionary<string, Version> found = new(StringComparer.OrdinalIgnoreCase);
        foreach (string path in Directory.GetFiles(Net472Folder, "*.dll").Concat(Directory.GetFiles(Path.Combine(Net472Folder, "Facades"), "*.dll")))
        {
            AssemblyName name;
            try
            {
                name = AssemblyName.GetAssemblyName(path);
            }
            catch (BadImageFormatException)
            {
                continue; // a file that is not an assembly (a module or native DLL)
            }

            found[name.Name!] = name.Version!;
        }

        return found;
    }

    private static IEnumerable<AssemblyName> References(MetadataReader reader)
    {
        foreach (AssemblyReferenceHandle handle in reader.AssemblyReferences)
        {
            yield return reader.GetAssemblyReference(handle).GetAssemblyName();
        }
    }

    private static string? TargetFramework(MetadataReader reader)
    {
        foreach (CustomAttributeHandle handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            CustomAttribute attribute = reader.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind == HandleKind.MemberReference
                && reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent is { Kind: HandleKind.TypeReference } parent
                && reader.GetString(reader.GetTypeReference((TypeReferenceHandle)parent).Name) == "TargetFrameworkAttribute")
            {
                BlobReader blob = reader.GetBlobReader(attribute.Value);
                blob.ReadUInt16(); // prolog
                return blob.ReadSerializedString();
            }
        }

        return null;
    }

    /// <summary>Resolves every type and member reference of one assembly in a
    /// MetadataLoadContext made of .NET Framework 4.7.2 and what ships beside the build.</summary>
    private sealed class NetFrameworkCheck
    {
        private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

        private readonly MetadataReader _reader;
        private readonly MetadataLoadContext _context;
        private readonly string _name;
        private readonly List<string> _problems;
        private readonly Dictionary<TypeReferenceHandle, Type?> _types = new();
        private readonly SignatureText _text;

        public NetFrameworkCheck(MetadataReader reader, MetadataLoadContext context, string name, List<string> problems)
        {
            _reader = reader;
            _context = context;
            _name = name;
            _problems = problems;
            _text = new SignatureText(reader);
        }

        public int Run()
        {
            foreach (TypeReferenceHandle handle in _reader.TypeReferences)
            {
                Resolve(handle);
            }

            int count = 0;
            foreach (MemberReferenceHandle handle in _reader.MemberReferences)
            {
                MemberReference member = _reader.GetMemberReference(handle);
                Type? owner = Owner(member.Parent);
                if (owner is null)
                {
                    continue;
                }

                count++;
                string memberName = _reader.GetString(member.Name);
                try
                {
                    Check(owner, memberName, member);
                }
                catch (Exception ex) when (ex is TypeLoadException or FileNotFoundException)
                {
                    // A signature on that type names something 4.7.2 cannot find.
                    _problems.Add($"{_name} uses {owner.FullName}.{memberName}, which cannot be checked against .NET Framework 4.7.2: {ex.Message}");
                }
            }

            return count;
        }

        private void Check(Type owner, string memberName, MemberReference member)
        {
            if (member.GetKind() == MemberReferenceKind.Field)
            {
                if (owner.GetField(memberName, Everything) is null)
                {
                    _problems.Add($"{_name} uses the field {owner.FullName}.{memberName}, which .NET Framework 4.7.2 lacks");
                }

                return;
            }

            MethodSignature<string> signature = member.DecodeMethodSignature(_text, genericContext: null);
            if (!HasMethod(owner, memberName, signature))
            {
                _problems.Add($"{_name} calls {signature.ReturnType} {owner.FullName}.{memberName}({string.Join(", ", signature.ParameterTypes)}), which .NET Framework 4.7.2 lacks");
            }
        }

        private Type? Resolve(TypeReferenceHandle handle)
        {
            if (_types.TryGetValue(handle, out Type? known))
            {
                return known;
            }

            TypeReference reference = _reader.GetTypeReference(handle);
            string typeName = _reader.GetString(reference.Name);
            Type? type = null;
            switch (reference.ResolutionScope.Kind)
            {
                case HandleKind.AssemblyReference:
                    string ns = _reader.GetString(reference.Namespace);
                    string fullName = ns.Length == 0 ? typeName : ns + "." + typeName;
                    AssemblyName assemblyName = _reader.GetAssemblyReference((AssemblyReferenceHandle)reference.ResolutionScope).GetAssemblyName();
                    try
                    {
                        type = _context.LoadFromAssemblyName(assemblyName).GetType(fullName, throwOnError: false);
                    }
                    catch (FileNotFoundException)
                    {
                        // Reported below as a missing type.
                    }

                    if (type is null)
                    {
                        _problems.Add($"{_name} uses {fullName} from {assemblyName.Name}, which .NET Framework 4.7.2 and the shipped DLLs lack");
                    }

                    break;
                case HandleKind.TypeReference:
                    type = Resolve((TypeReferenceHandle)reference.ResolutionScope)?.GetNestedType(typeName, BindingFlags.Public | BindingFlags.NonPublic);
                    if (type is null)
                    {
                        _problems.Add($"{_name} uses the nested type {typeName}, which .NET Framework 4.7.2 lacks");
                    }

                    break;
            }

            _types[handle] = type;
            return type;
        }

        /// <summary>The framework type a member reference belongs to; null for the assembly's
        /// own types and array methods.</summary>
        private Type? Owner(EntityHandle parent)
        {
            switch (parent.Kind)
            {
                case HandleKind.TypeReference:
                    return Resolve((TypeReferenceHandle)parent);
                case HandleKind.TypeSpecification:
                    BlobReader blob = _reader.GetBlobReader(_reader.GetTypeSpecification((TypeSpecificationHandle)parent).Signature);
                    if (blob.ReadSignatureTypeCode() != SignatureTypeCode.GenericTypeInstance)
                    {
                        return null;
                    }

                    blob.ReadCompressedInteger(); // class or value type
                    EntityHandle definition = blob.ReadTypeHandle();
                    return definition.Kind == HandleKind.TypeReference ? Resolve((TypeReferenceHandle)definition) : null;
                default:
                    return null;
            }
        }

        private static bool HasMethod(Type owner, string name, MethodSignature<string> signature)
        {
            IEnumerable<MethodBase> candidates = name == ".ctor"
                ? owner.GetConstructors(Everything)
                : owner.GetMethods(Everything).Concat(owner.IsInterface ? owner.GetInterfaces().SelectMany(i => i.GetMethods(Everything)) : Enumerable.Empty<MethodInfo>());
            foreach (MethodBase candidate in candidates)
            {
                if (candidate.Name != name || (candidate.IsGenericMethod ? candidate.GetGenericArguments().Length : 0) != signature.GenericParameterCount)
                {
                    continue;
                }

                ParameterInfo[] parameters = candidate.GetParameters();
                string returns = candidate is MethodInfo method ? Text(method.ReturnType) : "System.Void";
                if (parameters.Length == signature.ParameterTypes.Length
                    && returns == signature.ReturnType
                    && parameters.Select(p => Text(p.ParameterType)).SequenceEqual(signature.ParameterTypes))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The same text <see cref="SignatureText"/> makes from a signature, from a
        /// reflected type of a method's definition.</summary>
        private static string Text(Type type)
        {
            if (type.IsGenericParameter)
            {
                return (type.DeclaringMethod is null ? "!" : "!!") + type.GenericParameterPosition;
            }

            if (type.IsByRef)
            {
                return Text(type.GetElementType()!) + "&";
            }

            if (type.IsPointer)
            {
                return Text(type.GetElementType()!) + "*";
            }

            if (type.IsArray)
            {
                return Text(type.GetElementType()!) + (type.IsSZArray ? "[]" : "[" + new string(',', type.GetArrayRank() - 1) + "]");
            }

            if (type.IsConstructedGenericType)
            {
                return Text(type.GetGenericTypeDefinition()) + "<" + string.Join(",", type.GetGenericArguments().Select(Text)) + ">";
            }

            return type.IsNested ? Text(type.DeclaringType!) + "+" + type.Name : (string.IsNullOrEmpty(type.Namespace) ? type.Name : type.Namespace + "." + type.Name);
        }
    }

    /// <summary>Signature types as text: System.Int32, System.Byte[], System.Span`1&lt;System.Byte&gt;,
    /// !0 for a type's generic parameter, !!0 for a method's.</summary>
    private sealed class SignatureText : ISignatureTypeProvider<string, object?>
    {
        private readonly MetadataReader _reader;

        public SignatureText(MetadataReader reader) => _reader = reader;

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => "System." + typeCode;

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            TypeDefinition definition = reader.GetTypeDefinition(handle);
            string name = reader.GetString(definition.Name);
            TypeDefinitionHandle declaring = definition.GetDeclaringType();
            if (!declaring.IsNil)
            {
                return GetTypeFromDefinition(reader, declaring, rawTypeKind) + "+" + name;
            }

            string ns = reader.GetString(definition.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            TypeReference reference = reader.GetTypeReference(handle);
            string name = reader.GetString(reference.Name);
            if (reference.ResolutionScope.Kind == HandleKind.TypeReference)
            {
                return GetTypeFromReference(reader, (TypeReferenceHandle)reference.ResolutionScope, rawTypeKind) + "+" + name;
            }

            string ns = reader.GetString(reference.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public string GetSZArrayType(string elementType) => elementType + "[]";

        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[" + new string(',', shape.Rank - 1) + "]";

        public string GetByReferenceType(string elementType) => elementType + "&";

        public string GetPointerType(string elementType) => elementType + "*";

        public string GetPinnedType(string elementType) => elementType;

        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;

        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) =>
            genericType + "<" + string.Join(",", typeArguments) + ">";

        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;

        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;

        public string GetFunctionPointerType(MethodSignature<string> signature) => "method*";
    }

    /// <summary>The netstandard2.0 SockPS.Core loaded on its own, beside the net8.0 one this
    /// process uses, so its Windows PowerShell branches run (on .NET here, not .NET Framework:
    /// what they decide is the same).</summary>
    private sealed class DesktopCore : IDisposable
    {
        private readonly System.Runtime.Loader.AssemblyLoadContext _context = new("sockps-netstandard2.0", isCollectible: true);
        private readonly Assembly _core;

        public DesktopCore()
        {
            _core = _context.LoadFromAssemblyPath(Path.Combine(DesktopFolder, "SockPS.Core.dll"));
            Assert.Equal(".NETStandard,Version=v2.0", _core.GetCustomAttribute<System.Runtime.Versioning.TargetFrameworkAttribute>()!.FrameworkName);
        }

        public Type Type(string name) => _core.GetType(name, throwOnError: true)!;

        /// <summary>The SocketOperationException (the netstandard2.0 build's) a call throws,
        /// which must say NotSupported.</summary>
        public Exception Throws(Action call)
        {
            TargetInvocationException outer = Assert.Throws<TargetInvocationException>(call);
            Exception error = outer.InnerException!;
            Assert.Equal("SockPS.Core.SocketOperationException", error.GetType().FullName);
            Assert.Same(_core, error.GetType().Assembly);
            Assert.Equal("NotSupported", error.GetType().GetProperty("Kind")!.GetValue(error)!.ToString());
            return error;
        }

        public void Dispose() => _context.Unload();
    }
}
