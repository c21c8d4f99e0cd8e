import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.FieldNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TypeInsnNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Rewrites Java 11-17 class files into Java 8 class files that Debian's dx (which stops at class version 52)
 * can dex, doing the parts of d8's desugaring the ONNX Runtime Android classes need:
 *  - class version 61 -> 52;
 *  - nest-based access (Java 11): NestHost/NestMembers dropped, and private members that nestmates use made
 *    package-private (nestmates always share a package);
 *  - lambdas (invokedynamic + LambdaMetafactory.metafactory, absent on Android): each becomes a generated
 *    class with a static factory, as d8 and retrolambda do.
 * Anything else Java 9+ (string-concat indy, records, altMetafactory) makes it fail loudly rather than emit
 * a class that would break at run time. Usage: java -cp asm.jar:asm-tree.jar:. Retarget in.jar out.jar
 */
public final class Retarget {
    private static final String METAFACTORY = "java/lang/invoke/LambdaMetafactory";

    private Retarget() {}

    public static void main(String[] args) throws IOException {
        Map<String, ClassNode> classes = readClasses(args[0]);
        Set<String> crossNest = crossClassPrivateAccess(classes);
        List<ClassNode> generated = new ArrayList<ClassNode>();
        int lambdas = 0;
        for (ClassNode cn : classes.values()) {
            if (cn.recordComponents != null || cn.permittedSubclasses != null) {
                throw new IllegalStateException(cn.name + ": records/sealed classes are not supported");
            }
            cn.version = Opcodes.V1_8;
            cn.nestHostClass = null;
            cn.nestMembers = null;
            openUp(cn, crossNest);
            lambdas += desugarLambdas(cn, generated);
        }
        for (ClassNode cn : generated) {
            classes.put(cn.name, cn);
        }
        writeClasses(classes, args[1]);
        System.err.println("[retarget] " + classes.size() + " classes to version 52, " + crossNest.size()
                + " nestmate-private members opened, " + lambdas + " lambdas desugared");
    }

    private static Map<String, ClassNode> readClasses(String jar) throws IOException {
        Map<String, ClassNode> out = new LinkedHashMap<String, ClassNode>();
        ZipInputStream in = new ZipInputStream(new FileInputStream(jar));
        try {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.getName().endsWith(".class") && !e.getName().startsWith("META-INF/")) {
                    ClassNode cn = new ClassNode();
                    new ClassReader(readAll(in)).accept(cn, 0);
                    out.put(cn.name, cn);
                }
            }
        } finally {
            in.close();
        }
        return out;
    }

    private static void writeClasses(Map<String, ClassNode> classes, String jar) throws IOException {
        ZipOutputStream out = new ZipOutputStream(new FileOutputStream(jar));
        try {
            for (ClassNode cn : classes.values()) {
                ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_MAXS);
                cn.accept(cw);
                out.putNextEntry(new ZipEntry(cn.name + ".class"));
                out.write(cw.toByteArray());
                out.closeEntry();
            }
        } finally {
            out.close();
        }
    }

    /** "owner.name desc" of private members used from another class (javac 11+ emits no bridges for them). */
    private static Set<String> crossClassPrivateAccess(Map<String, ClassNode> classes) {
        Set<String> out = new HashSet<String>();
        for (ClassNode cn : classes.values()) {
            for (MethodNode m : cn.methods) {
                for (AbstractInsnNode insn : m.instructions) {
                    String key = null;
                    String owner = null;
                    if (insn instanceof MethodInsnNode) {
                        owner = ((MethodInsnNode) insn).owner;
                        key = owner + "." + ((MethodInsnNode) insn).name + " " + ((MethodInsnNode) insn).desc;
                    } else if (insn instanceof FieldInsnNode) {
                        owner = ((FieldInsnNode) insn).owner;
                        key = owner + "." + ((FieldInsnNode) insn).name + " " + ((FieldInsnNode) insn).desc;
                    }
                    if (key != null && !owner.equals(cn.name) && isPrivate(classes.get(owner), key)) {
                        out.add(key);
                    }
                }
            }
        }
        return out;
    }

    private static boolean isPrivate(ClassNode owner, String key) {
        if (owner == null) {
            return false;
        }
        for (MethodNode m : owner.methods) {
            if (key.equals(owner.name + "." + m.name + " " + m.desc)) {
                return (m.access & Opcodes.ACC_PRIVATE) != 0;
            }
        }
        for (FieldNode f : owner.fields) {
            if (key.equals(owner.name + "." + f.name + " " + f.desc)) {
                return (f.access & Opcodes.ACC_PRIVATE) != 0;
            }
        }
        return false;
    }

    /** Drop ACC_PRIVATE from members nestmates use; calls to an opened method switch invokespecial to invokevirtual. */
    private static void openUp(ClassNode cn, Set<String> open) {
        Set<String> openedMethods = new HashSet<String>();
        for (MethodNode m : cn.methods) {
            if (open.contains(cn.name + "." + m.name + " " + m.desc)) {
                m.access &= ~Opcodes.ACC_PRIVATE;
                if ((cn.access & Opcodes.ACC_INTERFACE) != 0) {
                    m.access |= Opcodes.ACC_PUBLIC;
                }
                openedMethods.add(m.name + m.desc);
            }
        }
        for (FieldNode f : cn.fields) {
            if (open.contains(cn.name + "." + f.name + " " + f.desc)) {
                f.access &= ~Opcodes.ACC_PRIVATE;
            }
        }
        for (MethodNode m : cn.methods) {
            for (AbstractInsnNode insn : m.instructions) {
                if (insn.getOpcode() == Opcodes.INVOKESPECIAL) {
                    MethodInsnNode call = (MethodInsnNode) insn;
                    if (call.owner.equals(cn.name) && !call.name.equals("<init>") && openedMethods.contains(call.name + call.desc)) {
                        call.setOpcode(Opcodes.INVOKEVIRTUAL);
                    }
                }
            }
        }
    }

    private static int desugarLambdas(ClassNode cn, List<ClassNode> generated) {
        int count = 0;
        for (MethodNode m : cn.methods) {
            for (AbstractInsnNode insn : m.instructions.toArray()) {
                if (!(insn instanceof InvokeDynamicInsnNode)) {
                    continue;
                }
                InvokeDynamicInsnNode indy = (InvokeDynamicInsnNode) insn;
                if (!indy.bsm.getOwner().equals(METAFACTORY) || !indy.bsm.getName().equals("metafactory")) {
                    throw new IllegalStateException(cn.name + "." + m.name + ": unsupported invokedynamic " + indy.bsm);
                }
                ClassNode lambda = lambdaClass(cn, indy, count++);
                generated.add(lambda);
                m.instructions.set(indy, new MethodInsnNode(Opcodes.INVOKESTATIC, lambda.name, "create", indy.desc, false));
            }
        }
        return count;
    }

    /** final class Owner$$Lambda$N implements I { captured fields; static I create(captured); sam(...) -> impl } */
    private static ClassNode lambdaClass(ClassNode owner, InvokeDynamicInsnNode indy, int n) {
        Type factory = Type.getMethodType(indy.desc);
        Type sam = (Type) indy.bsmArgs[0];
        Handle impl = (Handle) indy.bsmArgs[1];
        Type instantiated = (Type) indy.bsmArgs[2];
        openImpl(owner, impl);
        ClassNode cn = new ClassNode();
        cn.version = Opcodes.V1_8;
        cn.access = Opcodes.ACC_FINAL | Opcodes.ACC_SYNTHETIC | Opcodes.ACC_SUPER;
        cn.name = owner.name + "$$Lambda$" + n;
        cn.superName = "java/lang/Object";
        cn.interfaces.add(factory.getReturnType().getInternalName());
        Type[] captured = factory.getArgumentTypes();
        for (int i = 0; i < captured.length; i++) {
            cn.fields.add(new FieldNode(Opcodes.ACC_PRIVATE | Opcodes.ACC_FINAL, "f" + i, captured[i].getDescriptor(), null, null));
        }
        cn.methods.add(constructor(cn, captured));
        cn.methods.add(create(cn, factory));
        cn.methods.add(samMethod(cn, indy.name, sam, instantiated, impl, captured));
        return cn;
    }

    private static void openImpl(ClassNode owner, Handle impl) {
        for (MethodNode m : owner.methods) {
            if (m.name.equals(impl.getName()) && m.desc.equals(impl.getDesc())) {
                m.access &= ~Opcodes.ACC_PRIVATE;
            }
        }
    }

    private static MethodNode constructor(ClassNode cn, Type[] captured) {
        MethodNode m = new MethodNode(0, "<init>", Type.getMethodDescriptor(Type.VOID_TYPE, captured), null, null);
        InsnList code = m.instructions;
        code.add(new VarInsnNode(Opcodes.ALOAD, 0));
        code.add(new MethodInsnNode(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false));
        int slot = 1;
        for (int i = 0; i < captured.length; i++) {
            code.add(new VarInsnNode(Opcodes.ALOAD, 0));
            code.add(new VarInsnNode(captured[i].getOpcode(Opcodes.ILOAD), slot));
            code.add(new FieldInsnNode(Opcodes.PUTFIELD, cn.name, "f" + i, captured[i].getDescriptor()));
            slot += captured[i].getSize();
        }
        code.add(new InsnNode(Opcodes.RETURN));
        return m;
    }

    private static MethodNode create(ClassNode cn, Type factory) {
        MethodNode m = new MethodNode(Opcodes.ACC_STATIC, "create", factory.getDescriptor(), null, null);
        InsnList code = m.instructions;
        code.add(new TypeInsnNode(Opcodes.NEW, cn.name));
        code.add(new InsnNode(Opcodes.DUP));
        int slot = 0;
        for (Type t : factory.getArgumentTypes()) {
            code.add(new VarInsnNode(t.getOpcode(Opcodes.ILOAD), slot));
            slot += t.getSize();
        }
        code.add(new MethodInsnNode(Opcodes.INVOKESPECIAL, cn.name, "<init>",
                Type.getMethodDescriptor(Type.VOID_TYPE, factory.getArgumentTypes()), false));
        code.add(new InsnNode(Opcodes.ARETURN));
        return m;
    }

    private static MethodNode samMethod(ClassNode cn, String name, Type sam, Type instantiated, Handle impl, Type[] captured) {
        if (impl.getTag() != Opcodes.H_INVOKESTATIC) {
            throw new IllegalStateException(cn.name + ": only static lambda bodies are supported, got " + impl);
        }
        MethodNode m = new MethodNode(Opcodes.ACC_PUBLIC, name, sam.getDescriptor(), null, null);
        InsnList code = m.instructions;
        for (int i = 0; i < captured.length; i++) {
            code.add(new VarInsnNode(Opcodes.ALOAD, 0));
            code.add(new FieldInsnNode(Opcodes.GETFIELD, cn.name, "f" + i, captured[i].getDescriptor()));
        }
        Type[] samArgs = sam.getArgumentTypes();
        Type[] implArgs = Type.getArgumentTypes(impl.getDesc());
        int slot = 1;
        for (int i = 0; i < samArgs.length; i++) {
            code.add(new VarInsnNode(samArgs[i].getOpcode(Opcodes.ILOAD), slot));
            slot += samArgs[i].getSize();
            Type want = implArgs[captured.length + i];
            if (!want.equals(samArgs[i])) {
                if (want.getSort() < Type.ARRAY || samArgs[i].getSort() < Type.ARRAY) {
                    throw new IllegalStateException(cn.name + ": boxing adaptation of lambda arguments is not supported");
                }
                code.add(new TypeInsnNode(Opcodes.CHECKCAST, want.getInternalName()));
            }
        }
        code.add(new MethodInsnNode(Opcodes.INVOKESTATIC, impl.getOwner(), impl.getName(), impl.getDesc(), impl.isInterface()));
        Type implReturn = Type.getReturnType(impl.getDesc());
        if (!implReturn.equals(sam.getReturnType()) && (implReturn.getSort() < Type.ARRAY) != (sam.getReturnType().getSort() < Type.ARRAY)) {
            throw new IllegalStateException(cn.name + ": boxing adaptation of lambda results is not supported");
        }
        code.add(new InsnNode(sam.getReturnType().getOpcode(Opcodes.IRETURN)));
        return m;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
